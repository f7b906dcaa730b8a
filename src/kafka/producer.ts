/**
 * A Kafka producer (librdkafka) as a MessageSink: fire-and-forget sends, failures logged with their reason. One
 * instance carries all PV data; status and storage have their own, as in the reference, because their endpoints
 * and credentials may differ.
 *
 * librdkafka reports failed deliveries only: a report per message, built in C++ and handed to JavaScript as an
 * event, cost about 40 % of the forwarder's CPU per update (docs/performance.md). The number delivered and the
 * number in flight come from librdkafka's statistics instead (producer-statistics.ts), and are exact after the
 * final flush.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import type { MessageSink } from '../forwarding/sink.js';
import type { Logger } from '../logging/logger.js';
import { RateLimitedLog } from '../logging/rate-limited.js';
import { type ConnectRetry, connectWithRetry, logClientErrors } from './connect.js';
import {
  DeliveredFromStatistics,
  monotonicMicroseconds,
  parseProducerStatistics,
  type ProducerLatency,
  type ProducerStatistics,
} from './producer-statistics.js';

const { Producer, CODES } = rdkafka;

/**
 * librdkafka settings of every producer, which --kafka-config overrides: the reference forwarder's message size
 * (arrays can be large), and idempotent delivery, which the reference does not ask for. With it the broker drops
 * a batch it already wrote when librdkafka retries it (after a lost connection or a leader failover), and
 * librdkafka keeps retried batches in order (at most 5 requests in flight per connection, unlimited retries
 * within message.timeout.ms): no message twice, none overtaking another of its partition.
 */
export const PRODUCER_DEFAULTS: Readonly<Record<string, string | number | boolean>> = {
  'message.max.bytes': 20_000_000,
  'enable.idempotence': true,
  acks: 'all',
};

/** How often librdkafka reports its statistics: the delivered count and latencies are this fresh. */
export const STATISTICS_INTERVAL_MS = 1_000;

/** What KafkaProducer sets whatever the configuration says: its counts depend on them. */
const PRODUCER_OVERRIDES = {
  'delivery.report.only.error': true,
  'statistics.interval.ms': STATISTICS_INTERVAL_MS,
  dr_cb: true,
} as const;

/**
 * The facility of librdkafka's log line for a fatal error ("Fatal error: <error>: <reason>"); its error event
 * carries no more than "Local: Fatal error".
 */
const FATAL_FACILITY = 'FATAL';

/** Bound on waiting, after the final flush, for failure reports still on their way to JavaScript. */
const FAILURE_REPORTS_SETTLE_MS = 2_000;
/** Event-loop turns without a new failure report after which none is taken to be on its way. */
const QUIET_TURNS = 3;

export type ProduceResult = 'queued' | 'full' | 'refused';

/** librdkafka's own words for a full queue, as its error says it. */
const QUEUE_FULL_REASON = 'Local: Queue full';

export interface ProducerCounters {
  /** Messages handed to librdkafka. */
  queued: number;
  /**
   * Acknowledged by the broker: from librdkafka's statistics while running (up to about two seconds behind,
   * never ahead), exact after the final flush.
   */
  delivered: number;
  /** Failed delivery (broker error, message timeout). */
  deliveryErrors: number;
  /** Dropped because librdkafka's local queue was full. */
  queueFull: number;
  /** Refused by librdkafka for another reason (message too large, unknown topic, ...). */
  produceErrors: number;
}

/** A message Kafka did not take: refused when it was queued, or failed delivery. */
export interface DeliveryFailure {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly reason: string;
}

export class KafkaProducer implements MessageSink {
  readonly counters: ProducerCounters = {
    queued: 0,
    delivered: 0,
    deliveryErrors: 0,
    queueFull: 0,
    produceErrors: 0,
  };
  private latestLatency: ProducerLatency | undefined;
  private readonly deliveries = new DeliveredFromStatistics();
  private closed = false;
  private readonly deliveryErrorLog: RateLimitedLog;
  private readonly produceErrorLog: RateLimitedLog;
  private failureListener: ((failure: DeliveryFailure) => void) | undefined;
  private statisticsListener: ((statistics: ProducerStatistics) => void) | undefined;
  private fatalListener: ((reason: string) => void) | undefined;
  private fatalReason: string | undefined;

  private constructor(
    private readonly producer: RdKafka.Producer,
    private readonly role: string,
    logger: Logger,
    /** librdkafka's message.max.bytes: it refuses larger messages (value and key), naming the broker's error. */
    private readonly maxMessageBytes: number,
  ) {
    this.deliveryErrorLog = new RateLimitedLog(logger, 'error', 10_000);
    this.produceErrorLog = new RateLimitedLog(logger, 'error', 10_000);
    const statisticsErrorLog = new RateLimitedLog(logger, 'warn', 600_000);
    // Only failures are reported (delivery.report.only.error).
    producer.on('delivery-report', (error, report) => {
      if (!error) return;
      this.counters.deliveryErrors++;
      const key = report.key === undefined || report.key === null ? null : Buffer.from(report.key);
      this.deliveryErrorLog.log(
        `Kafka ${role}: message failed delivery (${describeMessage(report.topic, key)}): ${error.message}`,
      );
      this.failureListener?.({ topic: report.topic, key, reason: error.message });
    });
    producer.on('event.log', (entry: { fac: string; message: string }) => {
      if (entry.fac !== FATAL_FACILITY || this.fatalReason !== undefined) return;
      this.fatalReason = entry.message.replace(/^\[thrd:[^\]]*\]: /, '').replace(/^Fatal error: /, '');
      this.fatalListener?.(this.fatalReason);
    });
    producer.on('event.stats', (event: { message: string }) => {
      if (this.closed) return;
      try {
        const statistics = parseProducerStatistics(event.message);
        const { queued, deliveryErrors } = this.counters;
        this.deliveries.update(statistics, monotonicMicroseconds(), queued, deliveryErrors);
        this.counters.delivered = this.deliveries.delivered;
        this.latestLatency = statistics.latency;
        this.statisticsListener?.(statistics);
      } catch (error) {
        statisticsErrorLog.log(
          `Kafka ${role}: unreadable librdkafka statistics: ${(error as Error).message}`,
        );
      }
    });
  }

  /** Creates the producer and connects it (retrying until it works or `retry.cancelled` says stop). */
  static async create(
    config: Readonly<Record<string, string>>,
    role: string,
    logger: Logger,
    retry?: ConnectRetry,
  ): Promise<KafkaProducer> {
    const settings: Readonly<Record<string, string | number | boolean>> = {
      ...PRODUCER_DEFAULTS,
      ...config,
      ...PRODUCER_OVERRIDES,
    };
    const producer = new Producer(settings);
    logClientErrors(producer, role, logger);
    await connectWithRetry(producer, role, logger, retry);
    producer.setPollInterval(50);
    return new KafkaProducer(producer, role, logger, Number(settings['message.max.bytes']));
  }

  send(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): void {
    if (this.tryProduce(topic, key, payload, timestampMs) !== 'full') return;
    this.counters.queueFull++;
    this.refused(topic, key, QUEUE_FULL_REASON);
  }

  /**
   * Hands a message to librdkafka: 'queued'; 'full' when its queue is full (nothing is counted: the caller keeps
   * the message, or drops and counts it); 'refused' for good (larger than message.max.bytes, an invalid topic, ...:
   * counted, logged, reported).
   */
  tryProduce(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): ProduceResult {
    const size = payload.byteLength + (key?.length ?? 0);
    if (size > this.maxMessageBytes) {
      this.counters.produceErrors++;
      this.refused(
        topic,
        key,
        `message of ${size} bytes is larger than the producer's message.max.bytes (${this.maxMessageBytes})`,
      );
      return 'refused';
    }
    const value = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    try {
      this.producer.produce(topic, null, value, key, timestampMs);
      this.counters.queued++;
      return 'queued';
    } catch (error) {
      if ((error as { code?: number }).code === CODES.ERRORS.ERR__QUEUE_FULL) return 'full';
      this.counters.produceErrors++;
      this.refused(topic, key, (error as Error).message);
      return 'refused';
    }
  }

  /** A message the caller could not hand over (librdkafka's queue full, the spool full): logged and reported. */
  refused(topic: string, key: Buffer | null, reason: string): void {
    this.produceErrorLog.log(
      `Kafka ${this.role}: could not queue a message (${describeMessage(topic, key)}): ${reason}`,
    );
    this.failureListener?.({ topic, key, reason });
  }

  /** Tells `listener` of each statistics reading (every STATISTICS_INTERVAL_MS). */
  onStatistics(listener: (statistics: ProducerStatistics) => void): void {
    this.statisticsListener = listener;
  }

  /** Tells `listener` of every message refused or failed (the daemon hands them to the streams). */
  onFailure(listener: (failure: DeliveryFailure) => void): void {
    this.failureListener = listener;
  }

  /**
   * Tells `listener` once, with librdkafka's reason, when the producer failed for good: an idempotent producer
   * whose state the broker contradicts (or that the cluster refuses a producer id) refuses every message from
   * then on, and only a new producer can send again.
   */
  onFatalError(listener: (reason: string) => void): void {
    this.fatalListener = listener;
    if (this.fatalReason !== undefined) listener(this.fatalReason);
  }

  /** librdkafka's latencies over its last statistics interval; undefined before the first. */
  get latency(): ProducerLatency | undefined {
    return this.latestLatency;
  }

  /**
   * Messages queued but not yet acknowledged or failed, as librdkafka counted them at its last statistics (at
   * most STATISTICS_INTERVAL_MS old); 0 after a final flush that succeeded.
   */
  get inFlight(): number {
    return this.deliveries.messagesHeld;
  }

  /**
   * Whether a broker answers a metadata request within `timeoutMs` (only topics the producer already knows
   * are asked for, so the request stays small).
   */
  async brokersReachable(timeoutMs: number): Promise<boolean> {
    return new Promise((resolveProbe) => {
      try {
        this.producer.getMetadata({ allTopics: false, timeout: timeoutMs }, (error) => resolveProbe(!error));
      } catch {
        resolveProbe(false);
      }
    });
  }

  /** Waits until everything queued is delivered or failed, for at most `timeoutMs`; false on time-out. */
  async flush(timeoutMs: number): Promise<boolean> {
    return new Promise((resolveFlush) => {
      this.producer.flush(timeoutMs, (error) => resolveFlush(!error));
    });
  }

  /**
   * Flushes (bounded) and disconnects; resolves with whether everything queued was delivered or failed. After a
   * flush that succeeded, `counters.delivered` is exact: queued − failed.
   */
  async close(flushTimeoutMs: number): Promise<boolean> {
    const flushed = await this.flush(flushTimeoutMs);
    await this.failureReportsArrived();
    this.closed = true;
    if (flushed) {
      this.deliveries.settle(this.counters.queued, this.counters.deliveryErrors);
      this.counters.delivered = this.deliveries.delivered;
    }
    // The binding's disconnect flushes again first: no second wait, or the bound would be flushTimeoutMs + 5 s.
    await new Promise<void>((resolveDisconnect) => this.producer.disconnect(0, () => resolveDisconnect()));
    return flushed;
  }

  /**
   * After a flush, the failure reports librdkafka handed over may still be queued in the binding, which passes
   * JavaScript 100 per event-loop turn: waits until a few turns bring none.
   */
  private async failureReportsArrived(): Promise<void> {
    // The reports of the last messages arrive through the poll loop; give it a turn first.
    await new Promise((resolvePoll) => setTimeout(resolvePoll, 100));
    const deadline = Date.now() + FAILURE_REPORTS_SETTLE_MS;
    let seen = this.counters.deliveryErrors;
    for (let quiet = 0; quiet < QUIET_TURNS && Date.now() < deadline;) {
      await new Promise((resolveTurn) => setImmediate(resolveTurn));
      quiet = this.counters.deliveryErrors === seen ? quiet + 1 : 0;
      seen = this.counters.deliveryErrors;
    }
  }
}

/** The topic and, when there is one, the key (the PV name of data messages) of a message, for log lines. */
function describeMessage(topic: string, key: Buffer | null): string {
  return key === null ? `topic ${topic}` : `PV ${key.toString()}, topic ${topic}`;
}
