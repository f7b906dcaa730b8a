/** Where a topic's partitions begin and end, for consumers that assign themselves instead of joining a group. */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import type { Logger } from '../logging/logger.js';
import { blockingRequest, CANCELLED, type ConnectRetry, pauseBeforeRetry, unlessAborted } from './connect.js';

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
  const cancelled = (): Error => new Error(`Waiting for ${what.toLowerCase()} ${topic}: cancelled`);
  for (;;) {
    try {
      const offsets = await unlessAborted(retry.abort, readOffsets(consumer, topic));
      if (offsets === CANCELLED) throw cancelled();
      if (offsets.length > 0) return offsets;
      logger.error(`${what} ${topic} has no partitions (does it exist?); retrying`);
    } catch (error) {
      if (retry.abort?.aborted) throw cancelled();
      logger.error(
        `Could not read the partitions of ${what.toLowerCase()} ${topic}: ${(error as Error).message}; retrying`,
      );
    }
    if ((await pauseBeforeRetry(retry)) === CANCELLED) throw cancelled();
  }
}

/** One try: the offsets of every partition, none when the topic does not exist. */
async function readOffsets(consumer: RdKafka.KafkaConsumer, topic: string): Promise<PartitionOffsets[]> {
  const metadata = await blockingRequest(
    new Promise<RdKafka.Metadata>((resolveMetadata, rejectMetadata) =>
      consumer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, (error, data) =>
        error ? rejectMetadata(error) : resolveMetadata(data),
      ),
    ),
  );
  const partitions = metadata.topics.find((entry) => entry.name === topic)?.partitions ?? [];
  return Promise.all(
    partitions.map(({ id }) =>
      blockingRequest(
        new Promise<PartitionOffsets>((resolveOffsets, rejectOffsets) =>
          consumer.queryWatermarkOffsets(topic, id, METADATA_TIMEOUT_MS, (error, offsets) =>
            error
              ? rejectOffsets(error)
              : resolveOffsets({ partition: id, low: offsets.lowOffset, high: offsets.highOffset }),
          ),
        ),
      ),
    ),
  );
}
