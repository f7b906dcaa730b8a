/**
 * The group member's message sink, between the streams and the producer. It remembers, per PV, the EPICS time of
 * the last value it forwarded (the old owner's cut), and holds the messages of the partitions a new owner is taking
 * over until the old owner's cuts arrive. Kafka timestamps of the forwarder's value messages are their EPICS times,
 * in ms. Connection and alarm messages are left out of the cuts (a PV that does not connect has them with the wall
 * clock); held ones are dropped or forwarded by the same rule as values.
 */
import type { MessageSink } from '../forwarding/sink.js';
import { keepable } from '../schemas/index.js';
import { applyCut } from './handover.js';
import { pvPartition } from './partition.js';

interface HeldMessage {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly payload: Uint8Array;
  readonly timestampMs: number;
}

/** A PV's messages held while its partition is being taken over. */
interface Held {
  readonly messages: HeldMessage[];
  /** Whether a value (not only connection or alarm messages) came. */
  hasValue: boolean;
}

/** What releasing one partition's held messages did. */
export interface ReleaseResult {
  readonly forwarded: number;
  /** Held messages the old owner had forwarded already. */
  readonly dropped: number;
  /** PVs whose old owner stopped before their first held message: updates in between may be missing. */
  readonly gapsPossible: number;
}

const NS_PER_MS = 1_000_000n;

/**
 * Whether a message carries a PV's value, by its FlatBuffers file identifier (bytes 4 to 7): not 'ep01'
 * (connection) nor 'al00' (alarm), which a stream also sends when its PV does not connect.
 */
function isValueMessage(payload: Uint8Array): boolean {
  const ep01 = payload[4] === 0x65 && payload[5] === 0x70 && payload[6] === 0x30 && payload[7] === 0x31;
  const al00 = payload[4] === 0x61 && payload[5] === 0x6c && payload[6] === 0x30 && payload[7] === 0x30;
  return !ep01 && !al00;
}

export class HandoverSink implements MessageSink {
  /** Per stream key (one Buffer per stream, so looked up by identity): the PV and its partition. */
  private readonly names = new WeakMap<Buffer, { readonly pv: string; readonly partition: number }>();
  /** Per PV, the Kafka timestamp (EPICS time) of the last value message forwarded. */
  private readonly lastForwardedMs = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  private readonly heldPartitions = new Set<number>();

  /** The coordination topic's partition count: set once the member knows it, before any stream runs. */
  partitionCount = 1;

  constructor(private readonly target: MessageSink) {}

  send(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): void {
    const stream = key === null ? undefined : this.nameOf(key);
    if (stream !== undefined && this.heldPartitions.has(stream.partition)) {
      const held = this.held.get(stream.pv) ?? { messages: [], hasValue: false };
      held.messages.push({ topic, key, payload: keepable(payload), timestampMs });
      held.hasValue ||= isValueMessage(payload);
      this.held.set(stream.pv, held);
      return;
    }
    this.forward(stream?.pv, topic, key, payload, timestampMs);
  }

  /** From now on, the partition's messages are held. */
  hold(partition: number): void {
    this.heldPartitions.add(partition);
  }

  /** Whether a value of `pvName` is held. */
  hasValue(pvName: string): boolean {
    return this.held.get(pvName)?.hasValue === true;
  }

  /**
   * Forwards the partition's held messages after each PV's cut (no cuts: all of them), and its messages from now
   * on.
   */
  release(partition: number, cuts: ReadonlyMap<string, bigint> | undefined): ReleaseResult {
    this.heldPartitions.delete(partition);
    let forwarded = 0;
    let dropped = 0;
    let gapsPossible = 0;
    for (const [pv, held] of this.held) {
      if (pvPartition(pv, this.partitionCount) !== partition) continue;
      this.held.delete(pv);
      const result = applyCut(
        held.messages,
        (message) => BigInt(message.timestampMs) * NS_PER_MS,
        cuts?.get(pv),
      );
      for (const { topic, key, payload, timestampMs } of result.forward)
        this.forward(pv, topic, key, payload, timestampMs);
      forwarded += result.forward.length;
      dropped += result.dropped;
      if (result.gapPossible) gapsPossible++;
    }
    return { forwarded, dropped, gapsPossible };
  }

  /** The partition's cuts, once its streams have stopped: per PV, the EPICS time (ns) of its last message. */
  takeCuts(partition: number): Map<string, bigint> {
    const cuts = new Map<string, bigint>();
    for (const [pv, timestampMs] of this.lastForwardedMs) {
      if (pvPartition(pv, this.partitionCount) !== partition) continue;
      cuts.set(pv, BigInt(timestampMs) * NS_PER_MS);
      this.lastForwardedMs.delete(pv);
    }
    return cuts;
  }

  private forward(
    pv: string | undefined,
    topic: string,
    key: Buffer | null,
    payload: Uint8Array,
    timestampMs: number,
  ): void {
    if (pv !== undefined && isValueMessage(payload)) {
      this.lastForwardedMs.set(pv, Math.max(timestampMs, this.lastForwardedMs.get(pv) ?? 0));
    }
    this.target.send(topic, key, payload, timestampMs);
  }

  private nameOf(key: Buffer): { pv: string; partition: number } {
    let name = this.names.get(key);
    if (name === undefined) {
      const pv = key.toString('utf8');
      name = { pv, partition: pvPartition(pv, this.partitionCount) };
      this.names.set(key, name);
    }
    return name;
  }
}
