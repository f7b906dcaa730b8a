/**
 * Finding the newest stored stream set on a storage topic: reading backwards from the end in batches (1 message,
 * then 10, 100, ...), since the newest message is nearly always the one, and giving up with a StorageTopicError
 * after MAX_NON_STORED_MESSAGES messages that are not stored sets: a storage topic holds stored sets only, and one
 * holding anything else is the wrong topic (a data topic given as --storage-topic), not one to walk back over
 * message by message. Each read waits at most CONSUME_WAIT_MS, so a stop asked for is seen at once.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import type { Logger } from '../logging/logger.js';
import { SettingsError } from '../util/settings-error.js';

/** Messages that are not stored sets read back over before the topic is taken not to be a storage topic. */
export const MAX_NON_STORED_MESSAGES = 1_000;
/** Skipped messages listed one warning each, newest first; the rest are counted in one line. */
export const MAX_SKIPPED_LISTED = 20;
/** How long one read waits for messages. */
const CONSUME_WAIT_MS = 250;
/** Most messages one read asks for. */
const CONSUME_BATCH = 100;
/** A batch whose reads bring nothing new for this long is stuck: the broker stopped answering. */
const STALL_MS = 15_000;

/** The storage topic holds too much that is not a stored stream set: it is not a storage topic. */
export class StorageTopicError extends SettingsError {
  override readonly name = 'StorageTopicError';
}

/** The read was abandoned because a stop was asked for. */
export class RestoreCancelled extends Error {
  override readonly name = 'RestoreCancelled';
}

/** Where the topic's only partition begins and ends. */
export interface PartitionRange {
  readonly low: number;
  readonly high: number;
}

/**
 * The newest message of partition 0 of `topic` for which `isStored` holds, or undefined when there is none.
 * Newer messages read back over are warned of; too many of them throw StorageTopicError.
 */
export async function newestStoredSet(
  consumer: RdKafka.KafkaConsumer,
  topic: string,
  { low, high }: PartitionRange,
  isStored: (payload: Buffer) => boolean,
  logger: Logger,
  abort?: AbortSignal,
): Promise<Buffer | undefined> {
  consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
  const skipped = new SkippedMessages(topic, logger);
  let end = high;
  for (let size = 1; end > low; size *= 10) {
    if (skipped.count >= MAX_NON_STORED_MESSAGES) {
      skipped.summarise();
      throw new StorageTopicError(
        `storage topic ${topic}: none of its newest ${skipped.count} messages is a stored stream set ` +
          `(offsets ${end} to ${high - 1} of ${low} to ${high - 1}); is it the right topic? ` +
          "A storage topic holds only the forwarder's saved stream sets",
      );
    }
    const start = Math.max(low, end - Math.min(size, MAX_NON_STORED_MESSAGES - skipped.count));
    const batch = await readRange(consumer, topic, start, end, abort);
    let newest: RdKafka.Message | undefined;
    for (const message of batch) if (message.value && isStored(message.value)) newest = message;
    for (const message of batch.reverse()) {
      if (newest !== undefined && message.offset <= newest.offset) break;
      skipped.add(message.offset);
    }
    if (newest !== undefined) {
      skipped.summarise();
      return newest.value ?? undefined;
    }
    end = start;
  }
  skipped.summarise();
  return undefined;
}

/** The messages of offsets start..end-1 (fewer where offsets hold no message), oldest first. */
async function readRange(
  consumer: RdKafka.KafkaConsumer,
  topic: string,
  start: number,
  end: number,
  abort: AbortSignal | undefined,
): Promise<RdKafka.Message[]> {
  consumer.assign([{ topic, partition: 0, offset: start }]);
  const messages: RdKafka.Message[] = [];
  let position = start;
  let lastProgress = Date.now();
  while (position < end) {
    if (abort?.aborted) throw new RestoreCancelled(`reading storage topic ${topic}: cancelled`);
    const batch = await new Promise<RdKafka.Message[]>((resolveConsume, rejectConsume) =>
      consumer.consume(Math.min(CONSUME_BATCH, end - position), (error, consumed) =>
        error ? rejectConsume(error) : resolveConsume(consumed),
      ),
    );
    for (const message of batch) {
      if (message.offset >= end) continue;
      messages.push(message);
      position = Math.max(position, message.offset + 1);
    }
    if (batch.length > 0) {
      lastProgress = Date.now();
      continue;
    }
    // Offsets taken by transaction markers hold no message: the consumer's position moves past them all the same.
    const [assigned] = consumer.position();
    if (assigned !== undefined && assigned.offset > position) position = assigned.offset;
    if (Date.now() - lastProgress > STALL_MS) {
      throw new Error(
        `reading storage topic ${topic}: nothing arrived for ${STALL_MS / 1000} s at offset ${position}`,
      );
    }
  }
  consumer.unassign();
  return messages;
}

/** The messages read back over, newest first: the first few listed one warning each, the rest in one line. */
class SkippedMessages {
  count = 0;

  constructor(
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  add(offset: number): void {
    if (this.count++ < MAX_SKIPPED_LISTED)
      this.logger.warn(
        `Skipping message at offset ${offset} of storage topic ${this.topic}: not a stored stream set`,
      );
  }

  summarise(): void {
    const unlisted = this.count - MAX_SKIPPED_LISTED;
    if (unlisted > 0)
      this.logger.warn(
        `Skipped ${unlisted} more messages of storage topic ${this.topic} that are not stored stream sets (not listed)`,
      );
  }
}
