/**
 * The config-topic consumer: a fresh consumer group on every start, reading from the latest offsets, as the
 * reference does (reference-forwarder.md §4.1): commands sent while the forwarder is down are not replayed; the
 * storage topic restores the stream set instead.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { type ConnectRetry, connectWithRetry, logClientErrors } from './connect.js';

const { KafkaConsumer } = rdkafka;

export class ConfigConsumer {
  private assignedOnce = false;
  private readonly assigned: Promise<void>;

  private constructor(private readonly consumer: RdKafka.KafkaConsumer) {
    this.assigned = new Promise((resolveAssigned) => {
      consumer.on('rebalance', (error, assignments) => {
        if (!error && assignments.length > 0 && !this.assignedOnce) {
          this.assignedOnce = true;
          resolveAssigned();
        }
      });
    });
  }

  /** Connects (retrying), subscribes and hands every message's payload to `onMessage`, in order. */
  static async create(
    config: Readonly<Record<string, string>>,
    topic: string,
    logger: Logger,
    onMessage: (payload: Buffer) => void,
    retry?: ConnectRetry,
  ): Promise<ConfigConsumer> {
    const consumer = new KafkaConsumer(
      { ...config, 'group.id': `forwarder-config-${randomUUID()}`, 'enable.auto.commit': false },
      { 'auto.offset.reset': 'latest' },
    );
    const role = 'config consumer';
    logClientErrors(consumer, role, logger);
    const configConsumer = new ConfigConsumer(consumer);
    await connectWithRetry(consumer, role, logger, retry);
    consumer.on('data', (message) => {
      if (message.value) onMessage(message.value);
    });
    consumer.subscribe([topic]);
    consumer.consume();
    return configConsumer;
  }

  /** Resolves once the consumer has its partitions: commands sent from then on are seen. */
  whenAssigned(): Promise<void> {
    return this.assigned;
  }

  get isAssigned(): boolean {
    return this.assignedOnce;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolveDisconnect) =>
      this.consumer.disconnect(5_000, () => resolveDisconnect()),
    );
  }
}
