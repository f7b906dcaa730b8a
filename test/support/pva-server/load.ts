/**
 * Load generation by the fake pvAccess server, for benchmarks: per connection, a flood of the same updates as fast
 * as the client reads (FakePvaServer.flood), or updates paced at a rate, each carrying a count of what its PV was
 * sent (FakePvaServer.stream): NTScalar doubles, NTScalarArray doubles and NTNDArray frames.
 */
import { BitSet } from '../../../src/epics/pva/bitset.js';
import { encodeData, type PvData, type PvStructureData } from '../../../src/epics/pva/values.js';
import { WireWriter } from '../../../src/epics/pva/wire.js';
import type { FakeConnection, MonitorState } from './connection.js';
import type { FakePv } from './pv.js';
import type { FakePvaServer } from './server.js';

/** The leaves a steady QSRV update of an NTScalar changes: the value and the timestamp. */
export const STEADY_UPDATE_PATHS = [
  'value',
  'timeStamp.secondsPastEpoch',
  'timeStamp.nanoseconds',
  'timeStamp.userTag',
] as const;

/**
 * The leaves p4p changes when it posts an NTNDArray frame (p4p.nt.NTNDArray.wrap with a timestamp): the array, its
 * sizes, unique id, timestamp, dimensions and attributes.
 */
export const NTNDARRAY_FRAME_PATHS = [
  'value',
  'compressedSize',
  'uncompressedSize',
  'uniqueId',
  'timeStamp.secondsPastEpoch',
  'timeStamp.nanoseconds',
  'dimension',
  'attribute',
] as const;

const STREAM_TICK_MS = 5;

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

/** Where a streamed update of one PV carries what changes per update, in bytes before the message's end. */
interface StreamSlot {
  readonly pv: FakePv;
  readonly template: Buffer;
  /** The counter's value in the template: the PV's when streaming started. */
  readonly initial: number;
  readonly counterType: 'float64' | 'int32';
  readonly counterFromEnd: number;
  readonly secondsFromEnd: number;
  readonly nanosecondsFromEnd: number;
}

/** What stream() sends on one connection: a slot per running monitor. */
interface StreamPlan {
  readonly monitorCount: number;
  readonly starts: number;
  readonly slots: readonly StreamSlot[];
  cursor: number;
}

/**
 * Paced updates on one connection, round-robin over its running monitors, each carrying its count (see
 * FakePvaServer.stream).
 */
export class UpdateStream {
  private plan: StreamPlan | undefined;
  private sequence = 0;

  constructor(
    private readonly connection: FakeConnection,
    private readonly server: FakePvaServer,
  ) {}

  /** Sends `count` updates, skipped (and counted in the server's log) while the socket has more than 1 MB queued. */
  send(count: number): void {
    const { socket, littleEndian } = this.connection;
    if (count <= 0 || socket.destroyed) return;
    if (socket.writableLength > 1 << 20) {
      this.server.log.streamSkipped += count;
      return;
    }
    const plan = this.currentPlan();
    const slots = plan.slots;
    if (slots.length === 0) return;
    let size = 0;
    for (let i = 0; i < count; i++)
      size += (slots[(plan.cursor + i) % slots.length] as StreamSlot).template.length;
    const batch = Buffer.allocUnsafe(size);
    const nowMs = Date.now();
    const seconds = BigInt(Math.floor(nowMs / 1000));
    const millisecondNs = (nowMs % 1000) * 1_000_000;
    let end = 0;
    for (let i = 0; i < count; i++) {
      const slot = slots[plan.cursor] as StreamSlot;
      plan.cursor = (plan.cursor + 1) % slots.length;
      end += slot.template.copy(batch, end);
      const pv = slot.pv;
      pv.streamed++;
      const counter = slot.initial + pv.streamed;
      // Distinct nanoseconds within the millisecond, so no two updates of a PV share a timestamp.
      const nanoseconds = millisecondNs + (this.sequence++ % 1_000_000);
      if (littleEndian) {
        if (slot.counterType === 'float64') batch.writeDoubleLE(counter, end - slot.counterFromEnd);
        else batch.writeInt32LE(counter, end - slot.counterFromEnd);
        batch.writeBigInt64LE(seconds, end - slot.secondsFromEnd);
        batch.writeInt32LE(nanoseconds, end - slot.nanosecondsFromEnd);
      } else {
        if (slot.counterType === 'float64') batch.writeDoubleBE(counter, end - slot.counterFromEnd);
        else batch.writeInt32BE(counter, end - slot.counterFromEnd);
        batch.writeBigInt64BE(seconds, end - slot.secondsFromEnd);
        batch.writeInt32BE(nanoseconds, end - slot.nanosecondsFromEnd);
      }
    }
    this.connection.send(batch);
  }

  private currentPlan(): StreamPlan {
    const plan = this.plan;
    const starts = this.server.log.monitorStarts;
    const monitorCount = this.connection.monitorCount;
    if (plan?.monitorCount === monitorCount && plan.starts === starts) return plan;
    const slots = this.connection.runningMonitors().map((monitor) => this.slot(monitor));
    this.plan = { monitorCount, starts, slots, cursor: 0 };
    return this.plan;
  }

  /**
   * A monitor's update template and where its counter and timestamp are: QSRV's value + timestamp update of an
   * NTScalar double (the count in the value) or NTScalarArray double (in its first element), p4p's frame of an
   * NTNDArray (in its uniqueId).
   */
  private slot(monitor: MonitorState): StreamSlot {
    const { pv } = monitor;
    const ndArray = pv.layout.indexOf('uniqueId') >= 0;
    const paths = ndArray ? NTNDARRAY_FRAME_PATHS : STEADY_UPDATE_PATHS;
    const after = (path: string): number => this.bytesAfter(pv, paths, path);
    const value = pv.value['value'];
    const counter = ndArray
      ? { type: 'int32' as const, initial: Number(pv.value['uniqueId']), fromEnd: after('uniqueId') + 4 }
      : value instanceof Float64Array
        ? { type: 'float64' as const, initial: Number(value[0]), fromEnd: after('value') + 8 * value.length }
        : { type: 'float64' as const, initial: Number(value), fromEnd: after('value') + 8 };
    const slot: StreamSlot = {
      pv,
      template: this.connection.encodeLeaves(monitor, paths),
      initial: counter.initial,
      counterType: counter.type,
      counterFromEnd: counter.fromEnd,
      secondsFromEnd: after('timeStamp.secondsPastEpoch') + 8,
      nanosecondsFromEnd: after('timeStamp.nanoseconds') + 4,
    };
    if (
      !Number.isFinite(counter.initial) ||
      readCounter(slot, this.connection.littleEndian) !== counter.initial
    ) {
      throw new Error(`stream(): ${pv.name} is neither an NTScalar or NTScalarArray double nor an NTNDArray`);
    }
    return slot;
  }

  /** The bytes of an update changing `paths` that follow the leaf at `path`: the later leaves, the overrun set. */
  private bytesAfter(pv: FakePv, paths: readonly string[], path: string): number {
    const at = pv.layout.indexOf(path);
    const writer = new WireWriter(this.connection.littleEndian);
    for (const index of paths.map((leaf) => pv.layout.indexOf(leaf)).sort((a, b) => a - b)) {
      if (index <= at) continue;
      const node = pv.layout.node(index);
      encodeData(writer, node.type, leafValue(pv.value, node.path));
    }
    new BitSet().write(writer);
    return writer.length;
  }
}

function leafValue(value: PvStructureData, path: string): PvData {
  return path.split('.').reduce<PvData>((data, name) => (data as PvStructureData)[name] as PvData, value);
}

function readCounter(slot: StreamSlot, littleEndian: boolean): number {
  const at = slot.template.length - slot.counterFromEnd;
  if (slot.counterType === 'int32')
    return littleEndian ? slot.template.readInt32LE(at) : slot.template.readInt32BE(at);
  return littleEndian ? slot.template.readDoubleLE(at) : slot.template.readDoubleBE(at);
}
