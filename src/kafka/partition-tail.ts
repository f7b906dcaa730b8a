/**
 * The last messages of topic partitions: what a producer that stopped without knowing whether Kafka had taken its
 * last messages reads back to find out (the disk spool does, before it sends them again).
 */
import rdkafka from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import { type ConnectRetry, connectWithRetry, logClientErrors } from './connect.js';
import { topicOffsets } from './topic-offsets.js';

const { KafkaConsumer } = rdkafka;

/** Messages asked for per consume call. */
const BATCH = 500;
const CONSUME_TIMEOUT_MS = 2_000;
/** Empty consume calls in a row after which a partition's tail is taken as read (messages deleted meanwhile). */
const EMPTY_CALLS = 5;

export interface TailMessage {
  readonly key: Buffer | null;
  readonly value: Buffer;
}

/** A partition to read, and how many of its last messages. */
export interface TailRequest {
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
}

/**
 * Reads the last `count` messages of each requested partition (fewer when it holds fewer), waiting while Kafka is
 * away. Resolves with them per request, oldest first.
 */
export async function readPartitionTails(
  config: Readonly<Record<string, string>>,
  requests: readonly TailRequest[],
  logger: Logger,
  retry: ConnectRetry,
): Promise<TailMessage[][]> {
  const consumer = new KafkaConsumer(
    { ...config, 'group.id': `forwarder-tail-${randomUUID()}`, 'enable.auto.commit': false },
    {},
  );
  const role = 'spool reader';
  logClientErrors(consumer, role, logger);
  await connectWithRetry(consumer, role, logger, retry);
  try {
    consumer.setDefaultConsumeTimeout(CONSUME_TIMEOUT_MS);
    const tails: TailMessage[][] = [];
    for (const request of requests) {
      const offsets = await topicOffsets(consumer, request.topic, 'Topic', logger, retry);
      const { low, high } = offsets.find(({ partition }) => partition === request.partition) ?? {
        low: 0,
        high: 0,
      };
      const from = Math.max(low, high - request.count);
      const tail: TailMessage[] = [];
      if (from < high)
        consumer.assign([{ topic: request.topic, partition: request.partition, offset: from }]);
      for (let next = from, empty = 0; next < high && empty < EMPTY_CALLS;) {
        const messages = await new Promise<rdkafka.Message[]>((resolveConsume, rejectConsume) =>
          consumer.consume(BATCH, (error, consumed) =>
            error ? rejectConsume(error) : resolveConsume(consumed),
          ),
        );
        if (retry.abort?.aborted) throw new Error('reading the partition tails: cancelled');
        empty = messages.length === 0 ? empty + 1 : 0;
        for (const message of messages) {
          if (message.offset < next) continue;
          tail.push({
            key: message.key ? Buffer.from(message.key) : null,
            value: message.value ?? Buffer.alloc(0),
          });
          next = message.offset + 1;
        }
      }
      if (from < high) consumer.unassign();
      tails.push(tail);
    }
    return tails;
  } finally {
    await new Promise<void>((resolveDisconnect) => consumer.disconnect(() => resolveDisconnect()));
  }
}
