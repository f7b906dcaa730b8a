import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import { logPollErrors, PollLoop } from '../../src/kafka/poll-loop.js';
import { topicOffsets } from '../../src/kafka/topic-offsets.js';
import type { Logger } from '../../src/logging/logger.js';
import { type DecodedMessage, deserialiseAny } from '../../src/schemas/index.js';

export interface ReadMessage {
  readonly partition: number;
  readonly key: string | null;
  readonly timestampMs: number;
  readonly payload: Buffer;
  /** Decoded with our readers; undefined when the payload is no ESS message. */
  readonly decoded: DecodedMessage | undefined;
}

function decode(payload: Buffer): DecodedMessage | undefined {
  try {
    return deserialiseAny(payload);
  } catch {
    return undefined;
  }
}

/** What waiting for a topic's partitions says, in the test output. */
const testLog: Logger = {
  error: (message) => console.log(`# ${message}`),
  warn: (message) => console.log(`# ${message}`),
  info: () => undefined,
  debug: () => undefined,
};
const QUICK_RETRY = { attemptTimeoutMs: 10_000, retryDelayMs: 250 };

/** What a reader does with each message besides keeping it. */
export interface TopicReaderOptions {
  /** Called with each message as it is read. */
  readonly onMessage?: (topic: string, message: ReadMessage) => void;
  /** False: keep no messages (`of` stays empty), for topics too long to hold; only `onMessage` sees them. */
  readonly keep?: boolean;
}

/**
 * Reads topics from their beginning for as long as a test runs, decoding every message; tests wait for what
 * they expect with `waitFor`.
 */
export class TopicReader {
  readonly messages = new Map<string, ReadMessage[]>();

  private loop: PollLoop | undefined;

  private constructor(private readonly consumer: RdKafka.KafkaConsumer) {}

  static async start(
    config: Record<string, string>,
    topics: readonly string[],
    options: TopicReaderOptions = {},
  ): Promise<TopicReader> {
    const keep = options.keep ?? true;
    const consumer = new rdkafka.KafkaConsumer(
      {
        ...config,
        // Required by librdkafka; the reader assigns itself and never joins the group.
        'group.id': `test-reader-${Math.random().toString(36).slice(2)}`,
        'enable.auto.commit': false,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    const reader = new TopicReader(consumer);
    for (const topic of topics) reader.messages.set(topic, []);
    await new Promise<void>((resolveConnect, rejectConnect) =>
      consumer.connect({ timeout: 20_000 }, (error) => (error ? rejectConnect(error) : resolveConnect())),
    );
    // Every partition from its first offset, by assignment: a group member would have to rejoin after a broker
    // restart, and the group can wait out the old session (45 s) before it reads again.
    const assignments = [];
    for (const topic of topics) {
      for (const { partition, low } of await topicOffsets(consumer, topic, 'Topic', testLog, QUICK_RETRY))
        assignments.push({ topic, partition, offset: low });
    }
    // Polled by the forwarder's own loop: the binding's flowing mode would stop for good at the first error a
    // poll hands back.
    reader.loop = new PollLoop(
      consumer,
      (message) => {
        const payload = message.value ?? Buffer.alloc(0);
        const read: ReadMessage = {
          partition: message.partition,
          key: message.key === undefined || message.key === null ? null : message.key.toString(),
          timestampMs: message.timestamp ?? 0,
          payload,
          decoded: decode(payload),
        };
        options.onMessage?.(message.topic, read);
        if (keep) reader.messages.get(message.topic)?.push(read);
      },
      logPollErrors('topic reader', testLog),
    );
    consumer.assign(assignments);
    reader.loop.start();
    return reader;
  }

  of(topic: string): ReadMessage[] {
    return this.messages.get(topic) ?? [];
  }

  /** Waits until `predicate` holds for the messages of `topic` so far; rejects after `timeoutMs`. */
  async waitFor(
    topic: string,
    predicate: (messages: readonly ReadMessage[]) => boolean,
    timeoutMs = 30_000,
    what = 'the expected messages',
  ): Promise<ReadMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = this.of(topic);
      if (predicate(messages)) return messages;
      if (Date.now() > deadline) {
        throw new Error(
          `${what} did not arrive on ${topic} within ${timeoutMs} ms (${messages.length} messages read)`,
        );
      }
      await sleep(100);
    }
  }

  async close(): Promise<void> {
    await this.loop?.stop();
    await new Promise<void>((resolveDisconnect) => this.consumer.disconnect(() => resolveDisconnect()));
  }
}
