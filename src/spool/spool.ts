/**
 * The disk spool: a write-ahead log of the messages for Kafka. Every message is appended (segments.ts) before it
 * is handed to the producer; a segment is deleted once Kafka has acknowledged all its records (acks.ts). What is
 * on disk therefore survives a stop, a SIGKILL or a crash, and a forwarder started again replays what Kafka had
 * not acknowledged, in order, before anything new.
 *
 * Records are handed to the producer in the order they were appended: `next()` gives them from the oldest not
 * yet handed over. The acknowledgement state (per segment and partition, how many records are done) is written to
 * `acks.json` with each statistics reading, so a restart skips exactly what was done, up to the last reading.
 */
import { readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TailMessage } from '../kafka/partition-tail.js';
import type { TopicMessages } from '../kafka/producer-statistics.js';
import { crc32Of } from './crc32.js';
import { AckTracker, partitionKey, splitPartitionKey } from './acks.js';
import { recordSize } from './record.js';
import {
  type FileWriter,
  type Recovery,
  SegmentFiles,
  type SpooledRecord,
  type SpoolPosition,
} from './segments.js';

export interface SpoolOptions {
  readonly dir: string;
  /** Appends beyond this many bytes on disk are refused (and counted); default: DEFAULT_SHARE of the file system. */
  readonly maxBytes?: number;
  /** fsync every write (slower; survives a power cut, not only a crash). */
  readonly sync: boolean;
  readonly segmentBytes?: number;
  /** A stand-in for the disk, in tests. */
  readonly write?: FileWriter;
}

/** What the spool shows to metrics and the status page. */
export interface SpoolFigures {
  /** Bytes on disk (records not yet acknowledged, and the rest of their segments). */
  readonly bytes: number;
  readonly maxBytes: number;
  /** Records appended and not yet handed to the producer: the backlog. */
  readonly waiting: number;
  /** Kafka timestamp (ms) of the oldest waiting record; undefined when none waits. */
  readonly oldestWaitingMs: number | undefined;
  readonly appended: number;
  /** Records refused because the spool was full. */
  readonly dropped: number;
  /** Records handed over from the backlog (read back from disk). */
  readonly replayed: number;
  /** Records found done before a restart, and skipped. */
  readonly skippedAtStart: number;
  readonly recovery: Recovery;
  /** While writing to the spool's directory fails (a full or failing disk): the error. */
  readonly writeError: string | undefined;
}

const DEFAULT_SEGMENT_BYTES = 32 * 1024 * 1024;
/** The share of its file system a spool may fill when no size is given. */
export const DEFAULT_SHARE = 0.1;
/** The segment id of messages handed over without being spooled (the spool was full). */
const UNSPOOLED = 0;
const STATE_FILE = 'acks.json';
/** Records read back from disk per call of next(), at most. */
const READ_BATCH_BYTES = 2 * 1024 * 1024;

interface StateFile {
  readonly partitionCounts: Record<string, number>;
  /** Segment id (decimal) -> partition key -> records done. */
  readonly done: Record<string, Record<string, number>>;
  /** Segment id (decimal) -> partition key -> records handed over. */
  readonly handed?: Record<string, Record<string, number>>;
}

/** Per segment and partition key, a count (as the state file holds them). */
type CountsBySegment = ReadonlyMap<number, ReadonlyMap<string, number>>;

/** A partition whose last records an earlier run handed over without an acknowledgement. */
export interface DoubtfulPartition {
  readonly topic: string;
  readonly partition: number;
  /** Records in doubt. */
  readonly count: number;
}

/** What identifies a message on Kafka: its key and its bytes (which hold its EPICS time). */
function signature(key: Buffer | null, value: Buffer): string {
  return `${key?.toString('base64') ?? ''}:${value.toString('base64')}`;
}

/** The hash of a message's key, as librdkafka's default partitioner takes it. */
function keyHash(key: Buffer | null): number {
  return key === null ? 0 : crc32Of(key);
}

export class Spool {
  private readonly acks = new AckTracker();
  /** Per segment: records appended and not yet done (acknowledged, failed for good, or skipped). */
  private readonly outstanding = new Map<number, number>();
  /** The next record to hand over. */
  private cursor: SpoolPosition;
  private waitingCount = 0;
  private oldestWaiting: number | undefined;
  /** Records read back and not yet handed over. */
  private readBack: SpooledRecord[] = [];
  private readBackIndex = 0;
  /** The segment of the last message append() returned 'direct' for. */
  private directSegment = 0;
  private appendedCount = 0;
  private droppedCount = 0;
  private replayedCount = 0;
  private skippedCount = 0;
  private doneTotal = 0;
  /** Why the last save of the acknowledgement state failed, until one succeeds. */
  private stateFailure: Error | undefined;

  private constructor(
    private readonly files: SegmentFiles,
    private readonly options: SpoolOptions,
    readonly maxBytes: number,
    readonly recovery: Recovery,
  ) {
    this.cursor = { segment: files.segments[0]?.id ?? 1, offset: 0 };
    for (const segment of files.segments) {
      this.outstanding.set(segment.id, segment.records);
      this.waitingCount += segment.records;
    }
  }

  /** Opens the spool in `dir`; what an earlier run left is waiting, less what it knew Kafka had. */
  static open(options: SpoolOptions): Spool {
    const { files, recovery } = SegmentFiles.open(options.dir, {
      segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      sync: options.sync,
      ...(options.write === undefined ? {} : { write: options.write }),
    });
    const { bsize, blocks } = statfsSync(options.dir);
    const maxBytes = options.maxBytes ?? Math.floor(DEFAULT_SHARE * bsize * blocks);
    const spool = new Spool(files, options, maxBytes, recovery);
    spool.restoreState();
    return spool;
  }

  get figures(): SpoolFigures {
    return {
      bytes: this.files.bytes,
      maxBytes: this.maxBytes,
      waiting: this.waitingCount,
      oldestWaitingMs: this.waitingCount > 0 ? this.peekOldestWaiting() : undefined,
      appended: this.appendedCount,
      dropped: this.droppedCount,
      replayed: this.replayedCount,
      skippedAtStart: this.skippedCount,
      recovery: this.recovery,
      writeError: this.writeError,
    };
  }

  /** While writing to the spool's directory fails (a full or failing disk): the error. */
  get writeError(): string | undefined {
    return (this.files.writeFailure ?? this.stateFailure)?.message;
  }

  /** The spool's directory. */
  get dir(): string {
    return this.options.dir;
  }

  /** Whether records wait to be handed over (then new ones must wait behind them). */
  get hasWaiting(): boolean {
    return this.waitingCount > 0;
  }

  /** Records Kafka acknowledged (or failed for good) in this run, as the statistics told: grows while it works. */
  get doneCount(): number {
    return this.doneTotal;
  }

  /** Times the statistics disagreed with what was handed over (a partition count changed, or a bug). */
  get ackMismatches(): number {
    return this.acks.mismatches;
  }

  /**
   * Appends a message. 'direct': nothing waits before it, so the caller hands it over at once and then calls
   * handedOverDirect(), deferDirect() or discardDirect(). 'queued': it waits behind others. 'full': the spool has
   * no room (it holds maxBytes, or writing to disk fails) and did not take it (counted as dropped unless the caller
   * hands it over unspooled).
   */
  append(
    topic: string,
    key: Buffer | null,
    payload: Uint8Array,
    timestampMs: number,
  ): 'direct' | 'queued' | 'full' {
    if (this.files.bytes + recordSize(topic, key, payload) > this.maxBytes) return 'full';
    const segment = this.files.append(topic, key, payload, timestampMs);
    if (segment === undefined) return 'full';
    this.outstanding.set(segment, (this.outstanding.get(segment) ?? 0) + 1);
    this.appendedCount++;
    if (this.waitingCount === 0) {
      this.directSegment = segment;
      return 'direct';
    }
    this.waitingCount++;
    return 'queued';
  }

  /** The message append() just returned 'direct' for was handed over. */
  handedOverDirect(topic: string, key: Buffer | null): void {
    this.acks.handedOver(topic, keyHash(key), this.directSegment);
    this.cursor = this.files.end;
  }

  /** The message append() just returned 'direct' for could not be handed over yet: it waits like the rest. */
  deferDirect(timestampMs: number): void {
    this.waitingCount++;
    this.oldestWaiting ??= timestampMs;
  }

  /** The message append() just returned 'direct' for was refused for good: it is done. */
  discardDirect(): void {
    this.cursor = this.files.end;
    this.done(this.directSegment, 1);
  }

  /** A message the spool had no room for went to the producer all the same (nothing was waiting). */
  handedOverUnspooled(topic: string, key: Buffer | null): void {
    this.acks.handedOver(topic, keyHash(key), UNSPOOLED);
  }

  /** A message the spool had no room for, and nothing else took: lost. */
  drop(): void {
    this.droppedCount++;
  }

  /** The oldest waiting record (read back from disk), or undefined when none waits. */
  next(): SpooledRecord | undefined {
    if (this.waitingCount === 0) return undefined;
    if (this.readBackIndex >= this.readBack.length) {
      const { records, next } = this.files.read(this.cursor, READ_BATCH_BYTES);
      this.readBack = records;
      this.readBackIndex = 0;
      this.cursor = next;
      if (records.length === 0) {
        // The count and the files disagree (a record lost to corruption since): nothing more waits.
        this.waitingCount = 0;
        return undefined;
      }
    }
    return this.readBack[this.readBackIndex];
  }

  /** The record next() gave was handed over. */
  handedOverNext(): void {
    const record = this.readBack[this.readBackIndex++] as SpooledRecord;
    this.waitingCount--;
    this.oldestWaiting = undefined;
    this.replayedCount++;
    this.acks.handedOver(record.message.topic, keyHash(record.message.key), record.segment);
  }

  /** The record next() gave is not to be sent (done before a restart, or refused for good). */
  discardNext(): void {
    const record = this.readBack[this.readBackIndex++] as SpooledRecord;
    this.waitingCount--;
    this.oldestWaiting = undefined;
    this.done(record.segment, 1);
  }

  /**
   * Whether the record next() gave was done before this run (acknowledged by Kafka up to the previous run's last
   * statistics): then it is skipped.
   */
  wasDoneBefore(record: SpooledRecord): boolean {
    if (!this.acks.skipsIn(record.segment)) return false;
    const before = this.acks.doneBefore(record.message.topic, keyHash(record.message.key), record.segment);
    if (before) this.skippedCount++;
    return before;
  }

  /**
   * The partitions whose last records an earlier run handed over to Kafka without learning that Kafka had them (it
   * stopped while Kafka was away): before they are sent again, the caller reads that many of each partition's last
   * messages from Kafka and hands them to resolveDoubts().
   */
  doubtfulPartitions(): DoubtfulPartition[] {
    const total = new Map<string, number>();
    for (const partitions of this.acks.inDoubt().values()) {
      for (const [key, count] of partitions) total.set(key, (total.get(key) ?? 0) + count);
    }
    return [...total].map(([key, count]) => ({ ...splitPartitionKey(key), count }));
  }

  /**
   * Takes the last messages of each doubtful partition (in doubtfulPartitions()' order): the records in doubt found
   * there, in order from the first, are done; the rest are sent again. Returns how many were found.
   */
  resolveDoubts(
    partitions: readonly DoubtfulPartition[],
    tails: readonly (readonly TailMessage[])[],
  ): number {
    const onKafka = new Map<string, Set<string>>();
    partitions.forEach(({ topic, partition }, i) =>
      onKafka.set(
        partitionKey(topic, partition),
        new Set((tails[i] ?? []).map(({ key, value }) => signature(key, value))),
      ),
    );
    const doubt = this.acks.inDoubt();
    /** Partitions whose first record in doubt not on Kafka was met: the rest of them is sent again. */
    const ended = new Set<string>();
    let found = 0;
    for (const [segment, partitionsInSegment] of [...doubt].sort(([a], [b]) => a - b)) {
      const skip = new Map(this.acks.doneRecords().get(segment) ?? []);
      const left = new Map(partitionsInSegment);
      const foundHere = new Map<string, number>();
      let position: SpoolPosition = { segment, offset: 0 };
      while ([...left.values()].some((count) => count > 0)) {
        const { records, next } = this.files.read(position, READ_BATCH_BYTES);
        const inSegment = records.filter((record) => record.segment === segment);
        if (inSegment.length === 0) break;
        for (const { message } of inSegment) {
          const key = this.acks.partitionKeyOf(message.topic, keyHash(message.key));
          if (key === undefined || !left.has(key)) continue;
          const toSkip = skip.get(key) ?? 0;
          if (toSkip > 0) {
            skip.set(key, toSkip - 1);
            continue;
          }
          const count = left.get(key) as number;
          if (count === 0) continue;
          left.set(key, count - 1);
          if (ended.has(key) || !onKafka.get(key)?.has(signature(message.key, message.payload))) {
            ended.add(key);
            continue;
          }
          foundHere.set(key, (foundHere.get(key) ?? 0) + 1);
          found++;
        }
        if (inSegment.length < records.length) break;
        position = next;
      }
      for (const [key, count] of foundHere) this.acks.foundOnKafka(segment, key, count);
    }
    this.saveState();
    return found;
  }

  /** A librdkafka statistics reading: deletes the segments Kafka is done with, and saves the state. */
  onStatistics(topics: ReadonlyMap<string, TopicMessages>, messagesHeld: number): void {
    for (const [segment, count] of this.acks.onStatistics(topics, messagesHeld)) {
      this.doneTotal += count;
      this.done(segment, count);
    }
    this.saveState();
  }

  /** Writes the appends buffered in memory to disk; false while that fails (they stay in memory). */
  flush(): boolean {
    return this.files.flush();
  }

  /** The producer flushed everything handed over to Kafka: all of it is done. */
  allHandedOverDone(): void {
    for (const [segment, count] of this.acks.allDone()) this.done(segment, count);
  }

  /**
   * Writes what is buffered and the acknowledgement state; an empty spool leaves no files behind. Returns the bytes
   * of appends that could not be written (the disk failed): lost unless Kafka had them.
   */
  close(): number {
    const unwritten = this.files.close();
    if (this.waitingCount === 0 && [...this.outstanding.values()].every((count) => count <= 0)) {
      this.files.deleteAll();
      rmSync(join(this.options.dir, STATE_FILE), { force: true });
      return 0;
    }
    this.saveState();
    return unwritten;
  }

  private done(segment: number, count: number): void {
    if (segment === UNSPOOLED) return;
    const left = (this.outstanding.get(segment) ?? 0) - count;
    this.outstanding.set(segment, left);
    if (left > 0 || segment === this.files.end.segment) return;
    this.outstanding.delete(segment);
    this.acks.forgetSegment(segment);
    this.files.delete(segment);
  }

  private peekOldestWaiting(): number | undefined {
    if (this.oldestWaiting === undefined) this.oldestWaiting = this.next()?.message.timestampMs;
    return this.oldestWaiting;
  }

  private restoreState(): void {
    let state: StateFile;
    try {
      state = JSON.parse(readFileSync(join(this.options.dir, STATE_FILE), 'utf8')) as StateFile;
    } catch {
      return; // No state (a new spool, or a crash before the first reading): everything found is sent again.
    }
    const known = new Set(this.files.segments.map((segment) => segment.id));
    const counts = (bySegment: StateFile['done'] | undefined): CountsBySegment =>
      new Map(
        Object.entries(bySegment ?? {})
          .filter(([segment]) => known.has(Number(segment)))
          .map(([segment, partitions]) => [Number(segment), new Map(Object.entries(partitions))]),
      );
    this.acks.restore({
      done: counts(state.done),
      handed: counts(state.handed),
      partitionCounts: new Map(Object.entries(state.partitionCounts ?? {})),
    });
  }

  private saveState(): void {
    const plain = (bySegment: CountsBySegment): Record<string, Record<string, number>> =>
      Object.fromEntries(
        [...bySegment].map(([segment, partitions]) => [String(segment), Object.fromEntries(partitions)]),
      );
    const state: StateFile = {
      partitionCounts: Object.fromEntries(this.acks.knownPartitionCounts()),
      done: plain(this.acks.doneRecords()),
      handed: plain(this.acks.handedRecords()),
    };
    const path = join(this.options.dir, STATE_FILE);
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify(state));
      renameSync(`${path}.tmp`, path);
      this.stateFailure = undefined;
    } catch (error) {
      // The last state saved stays: a restart would send again what Kafka acknowledged since (twice, not lost).
      this.stateFailure = error instanceof Error ? error : new Error(String(error));
    }
  }
}
