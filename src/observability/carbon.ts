/**
 * Graphite export, as the reference forwarder has it: every statistics interval the metrics go to a Carbon
 * server in its plaintext protocol, `prefix.name value timestamp\n` over TCP, under the prefix
 * `forwarder.<host with . → _>.<service id>`, lower-cased, spaces removed. Names drop the `forwarder_` prefix
 * and counters their `_total` suffix; labels become further path components; histograms send `.sum`, `.count`
 * and `.average`. The reference's own metric names are sent as well where there is an equivalent, so its
 * dashboards keep working. An unreachable Carbon server costs one log line now and then, never a blocked or
 * crashed forwarder: a batch that cannot go out is dropped.
 */
import { connect, type Socket } from 'node:net';
import type { HostPort } from '../util/host-port.js';
import type { Logger } from '../logging/logger.js';
import type { Labels, MetricSnapshot } from './metrics.js';
import { RateLimitedLog } from '../logging/rate-limited.js';

export function carbonPrefix(hostName: string, serviceId: string): string {
  return `forwarder.${hostName.replace(/\./g, '_')}.${serviceId}`.toLowerCase().replace(/\s/g, '');
}

/** A path component: anything but letters, digits, `_`, `-` and `:` becomes `_` (dots would split it). */
function component(text: string): string {
  return text.replace(/[^A-Za-z0-9_:-]/g, '_');
}

function baseName(family: MetricSnapshot): string {
  const name = family.name.replace(/^forwarder_/, '');
  return family.type === 'counter' ? name.replace(/_total$/, '') : name;
}

function labelPath(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  return Object.values(labels)
    .map((value) => `.${component(value)}`)
    .join('');
}

/** The reference's names for figures we have: [reference name, our family, which of its series]. */
const REFERENCE_ALIASES: readonly (readonly [string, string, (labels: Labels) => boolean])[] = [
  ['pvs_subscribed', 'forwarder_streams', () => true],
  ['processing_errors', 'forwarder_messages_rejected_total', (labels) => labels['reason'] !== 'timestamp'],
  [
    'successful_sends',
    'forwarder_kafka_messages_delivered_total',
    (labels) => labels['producer'] === 'output',
  ],
  ['send_buffer_errors', 'forwarder_kafka_queue_full_total', (labels) => labels['producer'] === 'output'],
  [
    'send_delivery_errors',
    'forwarder_kafka_delivery_errors_total',
    (labels) => labels['producer'] === 'output',
  ],
];

function histogramLines(path: string, sum: number, count: number, suffix: string): string[] {
  return [
    `${path}.sum ${sum}${suffix}`,
    `${path}.count ${count}${suffix}`,
    `${path}.average ${count === 0 ? 0 : sum / count}${suffix}`,
  ];
}

/** Carbon plaintext lines for the families, at `timestampS` (Unix seconds). */
export function carbonLines(families: readonly MetricSnapshot[], prefix: string, timestampS: number): string {
  const suffix = ` ${Math.floor(timestampS)}\n`;
  const lines: string[] = [];
  const byName = new Map(families.map((family) => [family.name, family]));
  for (const family of families) {
    // Info metrics carry their content in labels, which Graphite has no place for.
    if (family.name.endsWith('_info')) continue;
    const path = `${prefix}.${baseName(family)}`;
    if (family.type === 'histogram') {
      lines.push(...histogramLines(path, family.histogram.sum, family.histogram.count, suffix));
    } else {
      for (const sample of family.samples)
        lines.push(`${path}${labelPath(sample.labels)} ${sample.value}${suffix}`);
    }
  }
  for (const [alias, name, select] of REFERENCE_ALIASES) {
    const family = byName.get(name);
    if (family === undefined) continue;
    const path = `${prefix}.${alias}`;
    if (family.type === 'histogram') {
      lines.push(...histogramLines(path, family.histogram.sum, family.histogram.count, suffix));
    } else {
      const chosen = family.samples.filter((sample) => select(sample.labels ?? {}));
      if (chosen.length > 0)
        lines.push(`${path} ${chosen.reduce((sum, sample) => sum + sample.value, 0)}${suffix}`);
    }
  }
  return lines.join('');
}

export interface CarbonOptions {
  readonly address: HostPort;
  readonly intervalMs: number;
  readonly prefix: string;
  readonly collect: () => Promise<readonly MetricSnapshot[]>;
  readonly logger: Logger;
}

/** Bound on what may wait in the socket's buffer: a stalled Carbon server must not grow our memory. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 5_000;

export class CarbonReporter {
  private socket: Socket | undefined;
  private connected = false;
  /** The latest batch, waiting for a connection; an older one is replaced, never queued behind. */
  private pending: string | undefined;
  private readonly problems: RateLimitedLog;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CarbonOptions) {
    this.problems = new RateLimitedLog(options.logger, 'error', 60_000);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.report(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Collects and sends one batch (or keeps it for the connection being made); nothing once closed. */
  async report(): Promise<void> {
    try {
      const families = await this.options.collect();
      this.pending = carbonLines(families, this.options.prefix, Date.now() / 1000);
    } catch (error) {
      this.problems.log(`Could not collect statistics: ${(error as Error).message}`);
      return;
    }
    if (this.timer === undefined) return;
    if (this.connected) this.flush();
    else this.connect();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    this.connected = false;
  }

  private connect(): void {
    if (this.socket !== undefined) return;
    const { host, port } = this.options.address;
    const socket = connect({ host, port });
    this.socket = socket;
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connection timed out')));
    socket.once('connect', () => {
      socket.setTimeout(0);
      this.connected = true;
      this.flush();
    });
    // Carbon never answers; whatever arrives is ignored.
    socket.on('data', () => undefined);
    socket.on('error', (error) => {
      this.problems.log(`Could not send statistics to ${host}:${port}: ${error.message}`);
    });
    socket.once('close', () => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.connected = false;
      }
    });
    socket.unref();
  }

  private flush(): void {
    const socket = this.socket;
    const batch = this.pending;
    if (socket === undefined || batch === undefined) return;
    this.pending = undefined;
    if (socket.writableLength > MAX_BUFFERED_BYTES) {
      this.problems.log(
        `Could not send statistics: Carbon server ${this.options.address.host}:${this.options.address.port} ` +
          'is not reading; dropping this batch',
      );
      return;
    }
    socket.write(batch);
  }
}
