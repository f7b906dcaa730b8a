/**
 * The output producer with a disk spool in front (`--spool-dir`): every message is appended to the spool, then
 * handed to Kafka at once while nothing waits. When librdkafka cannot take it (its queue is full: the brokers are
 * away or slow), the message waits in the spool, and so does every later one, so that nothing overtakes it; a
 * replay loop hands the waiting messages over, oldest first, as fast as librdkafka takes them. The spool deletes
 * what Kafka has acknowledged, so it holds only what could still be lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaProducer } from '../kafka/producer.js';
import type { MessageSink } from '../forwarding/sink.js';
import type { Logger } from '../logging/logger.js';
import { RateLimitedLog } from '../logging/rate-limited.js';
import { FLUSH_INTERVAL_MS } from './segments.js';
import type { TailMessage, TailRequest } from '../kafka/partition-tail.js';
import type { DoubtfulPartition, Spool } from './spool.js';

/**
 * Waiting messages handed over per event-loop turn, so live messages and timers keep their turn. Under live load
 * the replay's share of the main thread hardly depends on this size (each turn reads what arrived since the last
 * one, which grows with the turn), but how long live reads wait does: about 2 ms per batch.
 */
const REPLAY_BATCH = 1_000;
/** When librdkafka's queue is full, the replay tries again after this long. */
const REPLAY_RETRY_MS = 100;
const SPOOL_FULL_REASON = 'the spool is full';
const SPOOL_UNWRITABLE_REASON = 'the spool cannot write to disk';
/** At a stop, waiting for Kafka goes on while it acknowledged something within this long. */
const CLOSE_PROGRESS_MS = 2_500;

/** What the spool needs of the producer behind it. */
export type SpoolTarget = Pick<KafkaProducer, 'tryProduce' | 'refused' | 'onStatistics' | 'flush' | 'close'>;

/** Reads the last `count` messages of each partition from Kafka, waiting while Kafka is away. */
export type TailReader = (requests: readonly TailRequest[]) => Promise<TailMessage[][]>;

/** Messages read besides those in doubt, for other producers' messages between them. */
const TAIL_MARGIN = 1_000;

export class SpoolingProducer implements MessageSink {
  private replayTimer: NodeJS.Timeout | undefined;
  private replayImmediate: NodeJS.Immediate | undefined;
  private readonly flushTimer: NodeJS.Timeout;
  private closed = false;
  /** Whether the log last said that messages wait. */
  private spooling = false;
  /** Whether the log last said that writing to disk fails. */
  private writeFailing = false;
  private readonly dropLog: RateLimitedLog;

  /** While the records an earlier run left in doubt are checked against Kafka: nothing is replayed meanwhile. */
  private resolving: Promise<void> | undefined;

  constructor(
    private readonly producer: SpoolTarget,
    readonly spool: Spool,
    private readonly logger: Logger,
    readTails: TailReader,
  ) {
    this.dropLog = new RateLimitedLog(logger, 'error', 10_000);
    producer.onStatistics((statistics) => spool.onStatistics(statistics.topics, statistics.messagesHeld));
    this.flushTimer = setInterval(() => this.writeToDisk(), FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
    if (!spool.hasWaiting) return;
    logger.info(
      `Spool: ${spool.figures.waiting} messages from before the start wait for Kafka; replaying them first`,
    );
    this.spooling = true;
    const doubtful = spool.doubtfulPartitions();
    if (doubtful.length === 0) this.scheduleReplay(0);
    else this.resolving = this.resolveDoubts(doubtful, readTails);
  }

  /**
   * The last run handed records to Kafka and stopped before learning whether Kafka had them: read the partitions'
   * last messages, so that what Kafka has is not sent twice.
   */
  private async resolveDoubts(doubtful: readonly DoubtfulPartition[], readTails: TailReader): Promise<void> {
    const total = doubtful.reduce((sum, { count }) => sum + count, 0);
    this.logger.info(`Spool: checking which of ${total} messages handed over before the stop Kafka has`);
    try {
      const tails = await readTails(
        doubtful.map(({ topic, partition, count }) => ({ topic, partition, count: 2 * count + TAIL_MARGIN })),
      );
      if (this.closed) return;
      const found = this.spool.resolveDoubts(doubtful, tails);
      this.logger.info(`Spool: Kafka had ${found} of them; sending the other ${total - found} again`);
    } catch (error) {
      if (this.closed) return;
      this.logger.error(
        `Spool: could not read what Kafka has (${(error as Error).message}); sending all ${total} again`,
      );
    }
    this.resolving = undefined;
    this.scheduleReplay(0);
  }

  send(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): void {
    switch (this.spool.append(topic, key, payload, timestampMs)) {
      case 'queued':
        return;
      case 'full':
        this.onSpoolFull(topic, key, payload, timestampMs);
        return;
      case 'direct':
        break;
    }
    const result = this.producer.tryProduce(topic, key, payload, timestampMs);
    if (result === 'queued') this.spool.handedOverDirect(topic, key);
    else if (result === 'refused') this.spool.discardDirect();
    else {
      this.spool.deferDirect(timestampMs);
      this.startSpooling();
    }
  }

  /**
   * Waits, at most `timeoutMs`, until nothing waits in the spool and Kafka acknowledged everything (a forwarding
   * group member hands streams over after this); false on time-out.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.spool.hasWaiting) {
      if (Date.now() >= deadline) return false;
      await sleep(FLUSH_INTERVAL_MS);
    }
    return this.producer.flush(Math.max(0, deadline - Date.now()));
  }

  /**
   * Stops replaying, waits (bounded) for Kafka to acknowledge what it was given, and closes the spool. While Kafka
   * makes no progress there is no point waiting long: what it lacks is safe in the spool.
   */
  async close(flushTimeoutMs: number): Promise<boolean> {
    this.closed = true;
    clearTimeout(this.replayTimer);
    if (this.replayImmediate) clearImmediate(this.replayImmediate);
    clearInterval(this.flushTimer);
    this.writeToDisk();
    const flushed = await this.flushWhileKafkaTakes(Date.now() + flushTimeoutMs);
    await this.producer.close(0);
    if (flushed) this.spool.allHandedOverDone();
    const { waiting, bytes } = this.spool.figures;
    const unwritten = this.spool.close();
    if (unwritten > 0) {
      this.logger.error(
        `Spool: ${unwritten} bytes of messages could not be written to ${this.spool.dir}; what Kafka lacks of them is lost`,
      );
    }
    if (waiting > 0) {
      this.logger.warn(`Spool: ${waiting} messages (${bytes} bytes) wait in the spool for the next start`);
    }
    return flushed;
  }

  /** Flushes the producer until it is empty, the deadline passes, or Kafka acknowledged nothing for a while. */
  private async flushWhileKafkaTakes(deadline: number): Promise<boolean> {
    for (;;) {
      const doneBefore = this.spool.doneCount;
      const flushed = await this.producer.flush(
        Math.min(CLOSE_PROGRESS_MS, Math.max(0, deadline - Date.now())),
      );
      if (flushed || Date.now() >= deadline || this.spool.doneCount === doneBefore) return flushed;
    }
  }

  private onSpoolFull(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): void {
    // Nothing waits: Kafka may take it directly, only without the spool's protection.
    if (!this.spool.hasWaiting && this.producer.tryProduce(topic, key, payload, timestampMs) === 'queued') {
      this.spool.handedOverUnspooled(topic, key);
      return;
    }
    this.spool.drop();
    const { maxBytes, writeError } = this.spool;
    if (writeError === undefined) {
      this.dropLog.log(
        `Spool full (${maxBytes} bytes): dropping the newest messages until Kafka takes the waiting ones`,
      );
    } else {
      this.dropLog.log(
        `Spool cannot write to disk (${writeError}): dropping the newest messages until it can`,
      );
    }
    this.producer.refused(topic, key, writeError === undefined ? SPOOL_FULL_REASON : SPOOL_UNWRITABLE_REASON);
  }

  /** Writes the spool's buffered appends, and says when writing starts or stops failing. */
  private writeToDisk(): void {
    const written = this.spool.flush();
    const { writeError } = this.spool;
    if (writeError !== undefined && !this.writeFailing) {
      this.writeFailing = true;
      this.logger.error(
        `Spool: cannot write to ${this.spool.dir} (${writeError}); trying again every ${FLUSH_INTERVAL_MS} ms, ` +
          'and meanwhile messages that do not fit in memory go to Kafka unspooled, or are dropped while others wait',
      );
    } else if (written && writeError === undefined && this.writeFailing) {
      this.writeFailing = false;
      this.logger.info(`Spool: writing to ${this.spool.dir} again`);
    }
  }

  private startSpooling(): void {
    if (!this.spooling) {
      this.spooling = true;
      this.logger.warn("Spool: Kafka's queue is full; messages wait in the spool until Kafka takes them");
    }
    this.scheduleReplay(REPLAY_RETRY_MS);
  }

  private scheduleReplay(delayMs: number): void {
    if (this.closed || this.resolving || this.replayTimer !== undefined || this.replayImmediate !== undefined)
      return;
    if (delayMs === 0) {
      this.replayImmediate = setImmediate(() => {
        this.replayImmediate = undefined;
        this.replay();
      });
    } else {
      this.replayTimer = setTimeout(() => {
        this.replayTimer = undefined;
        this.replay();
      }, delayMs);
    }
  }

  /** Hands waiting messages over, oldest first, until librdkafka's queue is full or none waits. */
  private replay(): void {
    for (let handed = 0; handed < REPLAY_BATCH; handed++) {
      const record = this.spool.next();
      if (record === undefined) {
        if (this.spooling) {
          this.spooling = false;
          this.logger.info(
            `Spool: every waiting message handed to Kafka (${this.spool.figures.replayed} so far)`,
          );
        }
        return;
      }
      if (this.spool.wasDoneBefore(record)) {
        this.spool.discardNext();
        continue;
      }
      const { topic, key, payload, timestampMs } = record.message;
      const result = this.producer.tryProduce(topic, key, payload, timestampMs);
      if (result === 'full') {
        this.scheduleReplay(REPLAY_RETRY_MS);
        return;
      }
      if (result === 'queued') this.spool.handedOverNext();
      else this.spool.discardNext();
    }
    this.scheduleReplay(0);
  }
}
