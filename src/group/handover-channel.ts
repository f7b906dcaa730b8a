/**
 * The hand-over messages' Kafka side: a producer that writes each message to the coordination-topic partition it
 * is about, and a plain (non-group) consumer that reads every partition of the topic from where it stood when the
 * member started. Messages that do not decode are logged and counted, never acted on.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import { waitUntil } from './wait-until.js';
import type { Logger } from '../logging/logger.js';
import { RateLimitedLog } from '../logging/rate-limited.js';
import { type ConnectRetry, connectWithRetry, logClientErrors } from '../kafka/connect.js';
import { logPollErrors, PollLoop } from '../kafka/poll-loop.js';
import { topicOffsets } from '../kafka/topic-offsets.js';
import { decodeHandoverMessage, encodeHandoverMessage, type HandoverMessage } from './handover-message.js';

const { KafkaConsumer, Producer } = rdkafka;

/** Hand-over messages are few and their latency is the hand-over's: polled often, sent at once. */
const POLL_INTERVAL_MS = 10;
const QUERY_TIMEOUT_MS = 1_000;

export class HandoverChannel {
  /** Messages read that were not hand-over messages. */
  rejected = 0;
  /** Per partition, the offset of the next message to read. */
  private readonly nextOffset = new Map<number, number>();
  private readonly deliveries = new Map<number, (delivered: boolean) => void>();
  private sequence = 0;
  private readonly rejections: RateLimitedLog;

  private readonly loop: PollLoop;

  private constructor(
    private readonly topic: string,
    private readonly consumer: RdKafka.KafkaConsumer,
    private readonly producer: RdKafka.Producer,
    logger: Logger,
    onMessage: (message: HandoverMessage) => void,
  ) {
    this.rejections = new RateLimitedLog(logger, 'warn', 30_000);
    this.loop = new PollLoop(
      consumer,
      (message) => this.read(message, onMessage),
      logPollErrors('hand-over reader', logger),
      { intervalMs: POLL_INTERVAL_MS },
    );
    producer.on('delivery-report', (error, report) => {
      const opaque = report.opaque as number;
      this.deliveries.get(opaque)?.(!error);
      this.deliveries.delete(opaque);
    });
    producer.setPollInterval(POLL_INTERVAL_MS);
  }

  /** Connects both clients (retrying) and starts reading at the end of every partition. */
  static async open(
    config: Readonly<Record<string, string>>,
    topic: string,
    logger: Logger,
    retry: ConnectRetry,
    onMessage: (message: HandoverMessage) => void,
  ): Promise<HandoverChannel> {
    const consumer = new KafkaConsumer(
      { ...config, 'group.id': `forwarder-handover-${randomUUID()}`, 'enable.auto.commit': false },
      {},
    );
    const producer = new Producer({ ...config, 'linger.ms': 0, dr_cb: true });
    logClientErrors(consumer, 'hand-over reader', logger);
    logClientErrors(producer, 'hand-over writer', logger);
    await connectWithRetry(consumer, 'hand-over reader', logger, retry);
    await connectWithRetry(producer, 'hand-over writer', logger, retry);
    const offsets = await topicOffsets(consumer, topic, 'Coordination topic', logger, retry);
    const channel = new HandoverChannel(topic, consumer, producer, logger, onMessage);
    for (const { partition, high } of offsets) channel.nextOffset.set(partition, high);
    consumer.assign(offsets.map(({ partition, high }) => ({ topic, partition, offset: high })));
    channel.loop.start();
    return channel;
  }

  /** Writes the message to its partition; resolves true once Kafka acknowledged it, false after `timeoutMs`. */
  send(message: HandoverMessage, timeoutMs: number): Promise<boolean> {
    const opaque = ++this.sequence;
    return new Promise((resolveSend) => {
      const timer = setTimeout(() => {
        this.deliveries.delete(opaque);
        resolveSend(false);
      }, timeoutMs);
      this.deliveries.set(opaque, (delivered) => {
        clearTimeout(timer);
        resolveSend(delivered);
      });
      try {
        this.producer.produce(
          this.topic,
          message.partition,
          encodeHandoverMessage(message),
          null,
          Date.now(),
          opaque,
        );
      } catch {
        this.deliveries.get(opaque)?.(false);
        this.deliveries.delete(opaque);
      }
    });
  }

  /**
   * Resolves once every message already on `partition` has been read (true), or after `timeoutMs` (false): a new
   * owner looks for the old owner's RELEASING before it decides whether anybody hands the partition over.
   */
  async caughtUp(partition: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let high: number;
    try {
      high = await new Promise<number>((resolveHigh, rejectHigh) =>
        this.consumer.queryWatermarkOffsets(this.topic, partition, QUERY_TIMEOUT_MS, (error, offsets) =>
          error ? rejectHigh(error) : resolveHigh(offsets.highOffset),
        ),
      );
    } catch {
      return false;
    }
    const read = (): boolean => (this.nextOffset.get(partition) ?? 0) >= high;
    return waitUntil(read, deadline - Date.now(), POLL_INTERVAL_MS);
  }

  async close(): Promise<void> {
    await this.loop.stop();
    await Promise.all([
      new Promise<void>((resolveDisconnect) => this.consumer.disconnect(() => resolveDisconnect())),
      new Promise<void>((resolveDisconnect) => this.producer.disconnect(() => resolveDisconnect())),
    ]);
  }

  private read(message: RdKafka.Message, onMessage: (message: HandoverMessage) => void): void {
    this.nextOffset.set(message.partition, message.offset + 1);
    if (!message.value) return;
    let decoded: HandoverMessage;
    try {
      decoded = decodeHandoverMessage(message.value);
    } catch (error) {
      this.rejected++;
      this.rejections.log(
        `Coordination topic ${this.topic}: ignoring a message at offset ${message.offset} of partition ` +
          `${message.partition}: ${(error as Error).message}`,
      );
      return;
    }
    onMessage(decoded);
  }
}
