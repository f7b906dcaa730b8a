/**
 * x5f2 status messages: every status interval and right after each valid command. The JSON keeps the reference's
 * `streams` entries (channel_name, protocol, output_topic, schema) so existing readers work, and adds each stream's
 * periodic flag and connection state.
 */
import type { StreamStatus } from '../forwarding/forwarder.js';
import { PROTOCOL_LABEL } from '../config/stream.js';
import type { MessageSink } from '../forwarding/sink.js';
import { serialiseX5f2 } from '../schemas/index.js';

export interface ServiceIdentity {
  readonly softwareName: string;
  readonly softwareVersion: string;
  readonly serviceId: string;
  readonly hostName: string;
  readonly processId: number;
}

/** The status JSON, laid out as Python's json.dumps does (", " and ": "), as the reference sends it. */
export function statusJson(streams: readonly StreamStatus[]): string {
  const entries = streams.map(
    ({ spec, counters }) =>
      `{"channel_name": ${JSON.stringify(spec.pvName)}, "protocol": "${PROTOCOL_LABEL[spec.protocol]}", ` +
      `"output_topic": ${JSON.stringify(spec.topic)}, "schema": ${JSON.stringify(spec.schema)}, ` +
      `"periodic": ${spec.periodic}, "connection": "${counters.connection}"}`,
  );
  return `{"streams": [${entries.join(', ')}]}`;
}

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: MessageSink,
    private readonly topic: string,
    private readonly identity: ServiceIdentity,
    private readonly intervalMs: number,
    private readonly streams: () => readonly StreamStatus[],
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.report(), this.intervalMs);
  }

  report(): void {
    const payload = serialiseX5f2({
      ...this.identity,
      updateIntervalMs: this.intervalMs,
      statusJson: statusJson(this.streams()),
    });
    this.sink.send(this.topic, null, payload, Date.now());
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
