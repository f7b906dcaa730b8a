/**
 * A Kafka producer (librdkafka) as a MessageSink: fire-and-forget sends, delivery reports counted, failures
 * logged with their reason. One instance carries all PV data; status and storage have their own, as in the
 * reference, because their endpoints and credentials may differ.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import type { MessageSink } from '../forwarding/sink.js';
import type { Logger } from '../observability/logger.js';
import { RateLimitedLog } from '../observability/rate-limited.js';
import { type ConnectRetry, connectWithRetry, logClientErrors } from './connect.js';

const { Producer, CODES } = rdkafka;

/** librdkafka settings of the reference forwarder's producers (arrays can be large). */
export const PRODUCER_DEFAULTS: Readonly<Record<string, string | number | boolean>> = {
  'message.max.bytes': 20_000_000,
};

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
  private readonly deliveryErrorLog: RateLimitedLog;
  private readonly produceErrorLog: RateLimitedLog;

  private constructor(
    private readonly producer: RdKafka.Producer,
    private readonly role: string,
    logger: Logger,
  ) {
    this.deliveryErrorLog = new RateLimitedLog(logger, 'error', 10_000);
    this.produceErrorLog = new RateLimitedLog(logger, 'error', 10_000);
    producer.on('delivery-report', (error) => {
      if (error) {
        this.counters.deliveryErrors++;
        this.deliveryErrorLog.log(`Kafka ${role}: message failed delivery: ${error.message}`);
      } else this.counters.delivered++;
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
      this.producer.produce(topic, null, value, key, timestampMs);
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
    await new Promise<void>((resolveDisconnect) =>
      this.producer.disconnect(5_000, () => resolveDisconnect()),
    );
    return flushed;
  }
}
