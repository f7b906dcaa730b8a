/**
 * A Kafka producer (librdkafka) as a MessageSink: fire-and-forget sends, delivery reports counted, failures
 * logged with their reason. One instance carries all PV data; status and storage have their own, as in the
 * reference, because their endpoints and credentials may differ.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { performance } from 'node:perf_hooks';
import type { LatencyObserver } from '../forwarding/pipeline.js';
import type { MessageSink } from '../forwarding/sink.js';
import type { Logger } from '../observability/logger.js';
import { RateLimitedLog } from '../observability/rate-limited.js';
import { type ConnectRetry, connectWithRetry, logClientErrors } from './connect.js';

const { Producer, CODES } = rdkafka;

/** librdkafka settings of the reference forwarder's producers (arrays can be large). */
export const PRODUCER_DEFAULTS: Readonly<Record<string, string | number | boolean>> = {
  'message.max.bytes': 20_000_000,
};

/**
 * One message in this many carries its produce time to its delivery report for the produce-to-ack latency.
 * librdkafka's per-message opaque costs a persistent V8 handle, 0.5-0.7 µs of CPU per message (7-11 % of a
 * small message's whole cost, bench/observability.ts); sampling keeps each figure exact and the cost in the noise.
 */
export const ACK_LATENCY_SAMPLING = 16;

export interface ProducerCounters {
  /** Messages handed to librdkafka. */
  queued: number;
  /** Acknowledged by the broker. */
  delivered: number;
  /** Failed delivery (broker error, message timeout). */
  deliveryErrors: number;
  /** Dropped because librdkafka's local queue was full. */
  queueFull: number;
  /** Refused by librdkafka for another reason (message too large, unknown topic, ...). */
  produceErrors: number;
}

export class KafkaProducer implements MessageSink {
  readonly counters: ProducerCounters = {
    queued: 0,
    delivered: 0,
    deliveryErrors: 0,
    queueFull: 0,
    produceErrors: 0,
  };
  /**
   * Given the time from produce to delivery report, in seconds, of one acknowledged message in
   * ACK_LATENCY_SAMPLING. Only while it is set do messages carry their produce time (as librdkafka's
   * per-message opaque).
   */
  ackLatency: LatencyObserver | undefined;
  private untilSample = ACK_LATENCY_SAMPLING;
  private readonly deliveryErrorLog: RateLimitedLog;
  private readonly produceErrorLog: RateLimitedLog;

  private constructor(
    private readonly producer: RdKafka.Producer,
    private readonly role: string,
    logger: Logger,
  ) {
    this.deliveryErrorLog = new RateLimitedLog(logger, 'error', 10_000);
    this.produceErrorLog = new RateLimitedLog(logger, 'error', 10_000);
    producer.on('delivery-report', (error, report) => {
      if (error) {
        this.counters.deliveryErrors++;
        this.deliveryErrorLog.log(`Kafka ${role}: message failed delivery: ${error.message}`);
      } else {
        this.counters.delivered++;
        const producedAt: unknown = report.opaque;
        if (typeof producedAt === 'number') this.ackLatency?.observe((performance.now() - producedAt) / 1000);
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
    const producer = new Producer({ ...PRODUCER_DEFAULTS, ...config, dr_cb: true });
    logClientErrors(producer, role, logger);
    await connectWithRetry(producer, role, logger, retry);
    producer.setPollInterval(50);
    return new KafkaProducer(producer, role, logger);
  }

  send(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): void {
    const value = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    try {
      let producedAt: number | undefined;
      if (this.ackLatency !== undefined && --this.untilSample === 0) {
        this.untilSample = ACK_LATENCY_SAMPLING;
        producedAt = performance.now();
      }
      this.producer.produce(topic, null, value, key, timestampMs, producedAt);
      this.counters.queued++;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === CODES.ERRORS.ERR__QUEUE_FULL) this.counters.queueFull++;
      else this.counters.produceErrors++;
      this.produceErrorLog.log(
        `Kafka ${this.role}: could not queue a message for ${topic}: ${(error as Error).message}`,
      );
    }
  }

  /** Messages queued but not yet acknowledged or failed. */
  get inFlight(): number {
    return this.counters.queued - this.counters.delivered - this.counters.deliveryErrors;
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

  /** Flushes (bounded) and disconnects; resolves with whether everything queued was delivered or failed. */
  async close(flushTimeoutMs: number): Promise<boolean> {
    const flushed = await this.flush(flushTimeoutMs);
    // Delivery reports of the last messages arrive through the poll loop; give it a turn before disconnecting.
    await new Promise((resolvePoll) => setTimeout(resolvePoll, 100));
    // The binding's disconnect flushes again first: no second wait, or the bound would be flushTimeoutMs + 5 s.
    await new Promise<void>((resolveDisconnect) => this.producer.disconnect(0, () => resolveDisconnect()));
    return flushed;
  }
}
