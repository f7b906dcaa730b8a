/**
 * Load generation by the fake pvAccess server, for benchmarks: per connection, a flood of the same updates as fast
 * as the client reads (FakePvaServer.flood), or NTScalar double updates paced at a rate, each PV's value counting
 * what it was sent (FakePvaServer.stream).
 */
import type { FakeConnection } from './connection.js';
import type { FakePv } from './pv.js';
import type { FakePvaServer } from './server.js';

/** The leaves a steady QSRV update of an NTScalar changes: the value and the timestamp. */
export const STEADY_UPDATE_PATHS = [
  'value',
  'timeStamp.secondsPastEpoch',
  'timeStamp.nanoseconds',
  'timeStamp.userTag',
] as const;

const STREAM_TICK_MS = 5;
/**
 * The tail of a value + timestamp delta of an NTScalar double, from the end of the message: the double value,
 * timeStamp.secondsPastEpoch (int64), nanoseconds (int32), userTag (int32), the empty overrun bit set (one byte).
 */
const STREAM_VALUE_FROM_END = 25;
const STREAM_SECONDS_FROM_END = 17;
const STREAM_NANOSECONDS_FROM_END = 9;

/**
 * Calls `send(count)` every STREAM_TICK_MS with the updates due since the last call at `updatesPerSecond`.
 * Returns a stop function.
 */
export function paceUpdates(updatesPerSecond: number, send: (count: number) => void): () => void {
  const started = performance.now();
  let due = 0;
  const timer = setInterval(() => {
    const total = Math.floor(((performance.now() - started) * updatesPerSecond) / 1000);
    // After a stall, at most 20 ms worth at once: a late tick lowers the rate served, it does not burst.
    const count = Math.min(total - due, Math.ceil(updatesPerSecond / 50));
    due = total;
    send(count);
  }, STREAM_TICK_MS);
  return () => clearInterval(timer);
}

/** Keeps one connection's socket full of flood updates, once the server floods (see FakePvaServer.flood). */
export class FloodPump {
  private batch: { buffer: Buffer; updates: number; monitors: number } | undefined;
  private pumping = false;

  constructor(
    private readonly connection: FakeConnection,
    private readonly server: FakePvaServer,
  ) {}

  pump(): void {
    const paths = this.server.floodPaths;
    const socket = this.connection.socket;
    if (!paths || this.pumping || socket.destroyed) return;
    const running = this.connection.runningMonitors();
    if (running.length === 0) return;
    if (this.batch?.monitors !== running.length) {
      const messages = running.map((monitor) => this.connection.encodeLeaves(monitor, paths));
      // About 64 KiB per write.
      const one = Buffer.concat(messages);
      const repeat = Math.max(1, Math.floor(65536 / one.length));
      this.batch = {
        buffer: Buffer.concat(new Array<Buffer>(repeat).fill(one)),
        updates: repeat * messages.length,
        monitors: running.length,
      };
    }
    const batch = this.batch;
    this.pumping = true;
    let writable = true;
    for (let i = 0; i < 16 && writable; i++) {
      writable = socket.write(batch.buffer);
      this.server.log.flooded += batch.updates;
    }
    const next = (): void => {
      this.pumping = false;
      this.pump();
    };
    if (writable) setImmediate(next);
    else socket.once('drain', next);
  }
}

/** What stream() sends on one connection: each running monitor's update message, patched per update. */
interface StreamPlan {
  readonly monitorCount: number;
  readonly starts: number;
  readonly pvs: readonly FakePv[];
  readonly initial: Float64Array;
  readonly templates: readonly Buffer[];
  cursor: number;
}

/**
 * Paced NTScalar double updates on one connection, round-robin over its running monitors (see
 * FakePvaServer.stream).
 */
export class UpdateStream {
  private plan: StreamPlan | undefined;
  private sequence = 0;

  constructor(
    private readonly connection: FakeConnection,
    private readonly server: FakePvaServer,
  ) {}

  /** Sends `count` updates, skipped while the socket has more than 1 MB queued. */
  send(count: number): void {
    const { socket, littleEndian } = this.connection;
    if (count <= 0 || socket.destroyed || socket.writableLength > 1 << 20) return;
    const plan = this.currentPlan();
    if (plan.pvs.length === 0) return;
    const size = (plan.templates[0] as Buffer).length;
    const batch = Buffer.allocUnsafe(count * size);
    const nowMs = Date.now();
    const seconds = BigInt(Math.floor(nowMs / 1000));
    const millisecondNs = (nowMs % 1000) * 1_000_000;
    for (let i = 0; i < count; i++) {
      const index = plan.cursor;
      plan.cursor = (index + 1) % plan.pvs.length;
      const pv = plan.pvs[index] as FakePv;
      const end = (i + 1) * size;
      (plan.templates[index] as Buffer).copy(batch, i * size);
      pv.streamed++;
      const value = (plan.initial[index] as number) + pv.streamed;
      // Distinct nanoseconds within the millisecond, so no two updates of a PV share a timestamp.
      const nanoseconds = millisecondNs + (this.sequence++ % 1_000_000);
      if (littleEndian) {
        batch.writeDoubleLE(value, end - STREAM_VALUE_FROM_END);
        batch.writeBigInt64LE(seconds, end - STREAM_SECONDS_FROM_END);
        batch.writeInt32LE(nanoseconds, end - STREAM_NANOSECONDS_FROM_END);
      } else {
        batch.writeDoubleBE(value, end - STREAM_VALUE_FROM_END);
        batch.writeBigInt64BE(seconds, end - STREAM_SECONDS_FROM_END);
        batch.writeInt32BE(nanoseconds, end - STREAM_NANOSECONDS_FROM_END);
      }
    }
    this.connection.send(batch);
  }

  private currentPlan(): StreamPlan {
    const plan = this.plan;
    const starts = this.server.log.monitorStarts;
    const monitorCount = this.connection.monitorCount;
    if (plan?.monitorCount === monitorCount && plan.starts === starts) return plan;
    const running = this.connection.runningMonitors();
    const templates = running.map((monitor) => this.connection.encodeLeaves(monitor, STEADY_UPDATE_PATHS));
    const initial = Float64Array.from(running, (monitor, index) => {
      const value = monitor.pv.value['value'];
      const template = templates[index] as Buffer;
      const at = template.length - STREAM_VALUE_FROM_END;
      const sent = this.connection.littleEndian ? template.readDoubleLE(at) : template.readDoubleBE(at);
      if (typeof value !== 'number' || sent !== value) {
        throw new Error(`stream(): ${monitor.pv.name} is not an NTScalar double`);
      }
      return value;
    });
    this.plan = {
      monitorCount,
      starts,
      pvs: running.map((monitor) => monitor.pv),
      initial,
      templates,
      cursor: 0,
    };
    return this.plan;
  }
}
