/**
 * The config-topic consumer. Like the reference (reference-forwarder.md §4.1) it reads only commands sent after
 * it starts, from a fresh consumer identity: commands sent while the forwarder is down are not replayed (the
 * storage topic restores the stream set instead). Unlike the reference it does not join a consumer group: it
 * reads every partition's end offset and assigns itself there, so once start-up says it is listening, no command
 * can slip past it, and no group is left behind on the brokers.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import {
  CANCELLED,
  type ConnectRetry,
  connectWithRetry,
  DEFAULT_CONNECT_RETRY,
  logClientErrors,
  pauseBeforeRetry,
} from './connect.js';

const { KafkaConsumer } = rdkafka;

const METADATA_TIMEOUT_MS = 10_000;

export class ConfigConsumer {
  private constructor(private readonly consumer: RdKafka.KafkaConsumer) {}

  /** Connects (retrying), starts at the end of every partition and hands every message's payload over, in order. */
  static async create(
    config: Readonly<Record<string, string>>,
    topic: string,
    logger: Logger,
    onMessage: (payload: Buffer) => void,
    retry: ConnectRetry = DEFAULT_CONNECT_RETRY,
  ): Promise<ConfigConsumer> {
    const consumer = new KafkaConsumer(
      { ...config, 'group.id': `forwarder-config-${randomUUID()}`, 'enable.auto.commit': false },
      {},
    );
    const role = 'config consumer';
    logClientErrors(consumer, role, logger);
    await connectWithRetry(consumer, role, logger, retry);
    const assignments = await endOffsets(consumer, topic, logger, retry);
    consumer.on('data', (message) => {
      if (message.value) onMessage(message.value);
    });
    consumer.assign(assignments);
    consumer.consume();
    return new ConfigConsumer(consumer);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolveDisconnect) => this.consumer.disconnect(() => resolveDisconnect()));
  }
}

/** The end offset of every partition of `topic`, waiting (and saying so) while the topic does not exist. */
async function endOffsets(
  consumer: RdKafka.KafkaConsumer,
  topic: string,
  logger: Logger,
  retry: ConnectRetry,
): Promise<RdKafka.TopicPartitionOffset[]> {
  for (;;) {
    try {
      const metadata = await new Promise<RdKafka.Metadata>((resolveMetadata, rejectMetadata) =>
        consumer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, (error, data) =>
          error ? rejectMetadata(error) : resolveMetadata(data),
        ),
      );
      const partitions = metadata.topics.find((entry) => entry.name === topic)?.partitions ?? [];
      if (partitions.length > 0) {
        return await Promise.all(
          partitions.map(
            ({ id }) =>
              new Promise<RdKafka.TopicPartitionOffset>((resolveOffset, rejectOffset) =>
                consumer.queryWatermarkOffsets(topic, id, METADATA_TIMEOUT_MS, (error, offsets) =>
                  error
                    ? rejectOffset(error)
                    : resolveOffset({ topic, partition: id, offset: offsets.highOffset }),
                ),
              ),
          ),
        );
      }
      logger.error(`Config topic ${topic} has no partitions (does it exist?); retrying`);
    } catch (error) {
      logger.error(
        `Could not read the partitions of config topic ${topic}: ${(error as Error).message}; retrying`,
      );
    }
    if ((await pauseBeforeRetry(retry)) === CANCELLED) throw new Error(`Kafka config consumer: cancelled`);
  }
}
