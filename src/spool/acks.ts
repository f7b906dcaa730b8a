/**
 * Which spooled records Kafka has acknowledged, without a delivery report per message (they would cost the
 * forwarder a large share of its CPU): librdkafka's statistics say, per partition, how many messages were produced
 * to it and how many it still holds, so the difference is how many it is done with, and a partition's messages are
 * done in the order they were produced. Messages librdkafka holds outside any partition's queue (a request waiting
 * to be retried) are counted against every partition, so the count errs on the side of "not done". A record's partition is the one librdkafka's default partitioner picks:
 * CRC-32 of the key modulo the topic's partition count, which the statistics also give.
 *
 * "Done" includes messages that failed for good (a message too large for the topic): they are counted and
 * reported as such by the producer and are not sent again.
 */
import type { TopicMessages } from '../kafka/producer-statistics.js';

interface Run {
  readonly segment: number;
  count: number;
}

interface Pending {
  readonly keyHash: number;
  readonly segment: number;
}

/** Records acknowledged in each segment, as counted by one call. */
export type AckedBySegment = Map<number, number>;

export class AckTracker {
  private readonly partitionCounts = new Map<string, number>();
  /** Per partition ("topic\0partition"): records handed over in this session and not yet done, in order. */
  private readonly runs = new Map<string, Run[]>();
  /** Per partition: records counted done so far in this session. */
  private readonly done = new Map<string, number>();
  /** Records of topics whose partition count is not known yet, in order. */
  private readonly pending = new Map<string, Pending[]>();
  /** Per segment and partition: records done (in this session or an earlier one), for a restart to skip. */
  private readonly doneIn = new Map<number, Map<string, number>>();
  /** Per segment and partition: records an earlier run found done, not yet read back and skipped in this one. */
  private readonly skipAtStart = new Map<number, Map<string, number>>();
  /** Per segment and partition: records handed over (in this session or an earlier one). */
  private readonly handedIn = new Map<number, Map<string, number>>();
  /** Per topic, its partitions' keys, made once: a record's is looked up, not built and hashed again. */
  private readonly partitionKeys = new Map<string, string[]>();
  /** Times the statistics counted more done than were handed over (should not happen: logged once). */
  mismatches = 0;

  /** A record of `segment` was handed to the producer; `keyHash` is the CRC-32 of its key. */
  handedOver(topic: string, keyHash: number, segment: number): void {
    const count = this.partitionCounts.get(topic);
    if (count === undefined) {
      let list = this.pending.get(topic);
      if (!list) this.pending.set(topic, (list = []));
      list.push({ keyHash, segment });
      return;
    }
    this.append(this.keyOfPartition(topic, keyHash % count, count), segment);
  }

  private keyOfPartition(topic: string, partition: number, count: number): string {
    let keys = this.partitionKeys.get(topic);
    if (keys?.length !== count) {
      keys = Array.from({ length: count }, (_, i) => partitionKey(topic, i));
      this.partitionKeys.set(topic, keys);
    }
    return keys[partition] as string;
  }

  /** The partition count last seen for a topic. */
  partitionCount(topic: string): number | undefined {
    return this.partitionCounts.get(topic);
  }

  /**
   * Takes a statistics reading; returns how many records of each segment it found done. `messagesHeld` is
   * librdkafka's count of every message it still holds: more than the partitions' queues and flights show when
   * some wait elsewhere (a request to retry after a broker went away). Those belong to partitions the reading cannot
   * tell, so every partition is taken to hold that many more: a record is never counted done too early.
   */
  onStatistics(topics: ReadonlyMap<string, TopicMessages>, messagesHeld: number): AckedBySegment {
    const acked: AckedBySegment = new Map();
    let inPartitions = 0;
    for (const progress of topics.values()) {
      for (const { held } of progress.partitions.values()) inPartitions += held;
    }
    const elsewhere = Math.max(0, messagesHeld - inPartitions);
    for (const [topic, progress] of topics) {
      if (progress.partitionCount <= 0) continue;
      this.partitionCounts.set(topic, progress.partitionCount);
      const waiting = this.pending.get(topic);
      if (waiting) {
        this.pending.delete(topic);
        for (const { keyHash, segment } of waiting) {
          this.append(
            this.keyOfPartition(topic, keyHash % progress.partitionCount, progress.partitionCount),
            segment,
          );
        }
      }
      for (const [partition, { produced, held }] of progress.partitions) {
        if (partition < 0) continue;
        const key = partitionKey(topic, partition);
        const before = this.done.get(key) ?? 0;
        const now = produced - held - elsewhere;
        if (now > before) {
          this.done.set(key, now);
          this.pop(key, now - before, acked);
        }
      }
    }
    return acked;
  }

  /** Per segment and partition, the records done: what a restart skips. */
  doneRecords(): ReadonlyMap<number, ReadonlyMap<string, number>> {
    return this.doneIn;
  }

  /** Per segment and partition, the records handed over: what a restart may find on Kafka already. */
  handedRecords(): ReadonlyMap<number, ReadonlyMap<string, number>> {
    return this.handedIn;
  }

  /**
   * A restart: records of these segments and partitions were done before, and these handed over (the first ones of
   * each partition in each segment, since a partition's records are handed over and done in order).
   */
  restore(state: {
    readonly done: ReadonlyMap<number, ReadonlyMap<string, number>>;
    readonly handed: ReadonlyMap<number, ReadonlyMap<string, number>>;
    readonly partitionCounts: ReadonlyMap<string, number>;
  }): void {
    for (const [segment, partitions] of state.done) {
      this.doneIn.set(segment, new Map(partitions));
      this.skipAtStart.set(segment, new Map(partitions));
    }
    for (const [segment, partitions] of state.handed) this.handedIn.set(segment, new Map(partitions));
    for (const [topic, count] of state.partitionCounts) this.partitionCounts.set(topic, count);
  }

  /**
   * Records an earlier run handed over without learning that Kafka had them: per segment and partition, how many
   * follow the ones known done. Kafka may hold them already; the restart checks before sending them again.
   */
  inDoubt(): Map<number, Map<string, number>> {
    const doubt = new Map<number, Map<string, number>>();
    for (const [segment, partitions] of this.handedIn) {
      for (const [key, handed] of partitions) {
        const count = handed - (this.doneIn.get(segment)?.get(key) ?? 0);
        if (count <= 0) continue;
        let inSegment = doubt.get(segment);
        if (!inSegment) doubt.set(segment, (inSegment = new Map()));
        inSegment.set(key, count);
      }
    }
    return doubt;
  }

  /** A restart found the first `count` records in doubt of a segment and partition on Kafka: they are done. */
  foundOnKafka(segment: number, key: string, count: number): void {
    for (const map of [this.doneIn, this.skipAtStart]) {
      let inSegment = map.get(segment);
      if (!inSegment) map.set(segment, (inSegment = new Map()));
      inSegment.set(key, (inSegment.get(key) ?? 0) + count);
    }
  }

  /** The partition key of a record, with the partition counts known now (undefined while unknown). */
  partitionKeyOf(topic: string, keyHash: number): string | undefined {
    const count = this.partitionCounts.get(topic);
    return count === undefined ? undefined : this.keyOfPartition(topic, keyHash % count, count);
  }

  /** Whether an earlier run found records of `segment` done that are still to be skipped. */
  skipsIn(segment: number): boolean {
    return this.skipAtStart.has(segment);
  }

  /**
   * Whether a record read back at a restart was done before (and takes it off the count), judged by the partition
   * counts of that time.
   */
  doneBefore(topic: string, keyHash: number, segment: number): boolean {
    const partitions = this.skipAtStart.get(segment);
    const count = this.partitionCounts.get(topic);
    if (!partitions || count === undefined) return false;
    const key = this.keyOfPartition(topic, keyHash % count, count);
    const left = partitions.get(key) ?? 0;
    if (left === 0) return false;
    if (left === 1) partitions.delete(key);
    else partitions.set(key, left - 1);
    return true;
  }

  /** Everything handed over is done (the producer flushed it): the records of each segment. */
  allDone(): AckedBySegment {
    const acked: AckedBySegment = new Map();
    for (const [key, list] of this.runs) {
      const count = list.reduce((sum, run) => sum + run.count, 0);
      this.done.set(key, (this.done.get(key) ?? 0) + count);
      this.pop(key, count, acked);
    }
    for (const [topic, waiting] of this.pending) {
      this.pending.delete(topic);
      for (const { segment } of waiting) acked.set(segment, (acked.get(segment) ?? 0) + 1);
    }
    return acked;
  }

  /** The segment is gone: nothing more to remember of it. */
  forgetSegment(segment: number): void {
    this.doneIn.delete(segment);
    this.skipAtStart.delete(segment);
    this.handedIn.delete(segment);
  }

  /** Partition counts seen, for a restart. */
  knownPartitionCounts(): ReadonlyMap<string, number> {
    return this.partitionCounts;
  }

  private append(key: string, segment: number): void {
    let handed = this.handedIn.get(segment);
    if (!handed) this.handedIn.set(segment, (handed = new Map()));
    handed.set(key, (handed.get(key) ?? 0) + 1);
    let list = this.runs.get(key);
    if (!list) this.runs.set(key, (list = []));
    const last = list.at(-1);
    if (last?.segment === segment) last.count++;
    else list.push({ segment, count: 1 });
  }

  private pop(key: string, count: number, acked: AckedBySegment): void {
    const list = this.runs.get(key) ?? [];
    let left = count;
    while (left > 0 && list.length > 0) {
      const run = list[0] as Run;
      const taken = Math.min(left, run.count);
      run.count -= taken;
      left -= taken;
      acked.set(run.segment, (acked.get(run.segment) ?? 0) + taken);
      let inSegment = this.doneIn.get(run.segment);
      if (!inSegment) this.doneIn.set(run.segment, (inSegment = new Map()));
      inSegment.set(key, (inSegment.get(key) ?? 0) + taken);
      if (run.count === 0) list.shift();
    }
    if (left > 0) this.mismatches++;
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The topic and partition of a partition key. */
export function splitPartitionKey(key: string): { readonly topic: string; readonly partition: number } {
  const at = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}
