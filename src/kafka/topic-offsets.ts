/** Where a topic's partitions begin and end, for consumers that assign themselves instead of joining a group. */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import type { Logger } from '../observability/logger.js';
import { CANCELLED, type ConnectRetry, pauseBeforeRetry } from './connect.js';

const METADATA_TIMEOUT_MS = 10_000;

export interface PartitionOffsets {
  readonly partition: number;
  /** The first offset still held. */
  readonly low: number;
  /** The offset the next message will get. */
  readonly high: number;
}

/**
 * The offsets of every partition of `topic`, waiting (and saying so, naming the topic as `what`) while the topic
 * does not exist or cannot be read. The metadata request comes first because librdkafka learns of a topic created
 * after the client connected only through one.
 */
export async function topicOffsets(
  consumer: RdKafka.KafkaConsumer,
  topic: string,
  what: string,
  logger: Logger,
  retry: ConnectRetry,
): Promise<PartitionOffsets[]> {
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
              new Promise<PartitionOffsets>((resolveOffsets, rejectOffsets) =>
                consumer.queryWatermarkOffsets(topic, id, METADATA_TIMEOUT_MS, (error, offsets) =>
                  error
                    ? rejectOffsets(error)
                    : resolveOffsets({ partition: id, low: offsets.lowOffset, high: offsets.highOffset }),
                ),
              ),
          ),
        );
      }
      logger.error(`${what} ${topic} has no partitions (does it exist?); retrying`);
    } catch (error) {
      logger.error(
        `Could not read the partitions of ${what.toLowerCase()} ${topic}: ${(error as Error).message}; retrying`,
      );
    }
    if ((await pauseBeforeRetry(retry)) === CANCELLED)
      throw new Error(`Waiting for ${what.toLowerCase()} ${topic}: cancelled`);
  }
}
