/**
 * The storage topic: after every valid command the whole stream set is saved as one fc00 message (ADD with every
 * stream, or REMOVEALL when empty); at start-up the newest valid message is read back (restore.ts), reading
 * backwards over junk, within bounds (docs/forwarding.md, "Storage topic"). The topic must have one partition:
 * saves are unkeyed and reads use partition 0.
 */
import rdkafka from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import { parseConfigMessage } from '../streams/commands.js';
import type { StreamSpec } from '../model/stream.js';
import {
  type ConnectRetry,
  connectWithRetry,
  DEFAULT_CONNECT_RETRY,
  logClientErrors,
} from '../kafka/connect.js';
import { topicOffsets } from '../kafka/topic-offsets.js';
import { newestStoredSet } from './restore.js';
import type { KafkaProducer } from '../kafka/producer.js';
import type { Logger } from '../logging/logger.js';
import { Protocol, serialiseFc00, UpdateType } from '../schemas/index.js';

const { KafkaConsumer } = rdkafka;

const PROTOCOL_NUMBER = { ca: Protocol.CA, pva: Protocol.PVA, fake: Protocol.FAKE } as const;

/** The fc00 message that stores a stream set. */
export function storedStreamsMessage(streams: readonly StreamSpec[]): Uint8Array {
  if (streams.length === 0) return serialiseFc00({ configChange: UpdateType.REMOVEALL, streams: [] });
  return serialiseFc00({
    configChange: UpdateType.ADD,
    streams: streams.map((stream) => ({
      channel: stream.pvName,
      schema: stream.schema,
      topic: stream.topic,
      protocol: PROTOCOL_NUMBER[stream.protocol],
      periodic: stream.periodic ? 1 : 0,
    })),
  });
}

export class StreamStore {
  constructor(
    private readonly producer: KafkaProducer,
    readonly topic: string,
  ) {}

  save(streams: readonly StreamSpec[]): void {
    this.producer.send(this.topic, null, storedStreamsMessage(streams), Date.now());
  }

  /**
   * The newest stored stream set (an fc00 or rf5k ADD or REMOVEALL), or undefined when the topic holds none.
   * Newer messages that are not stored sets are skipped with a warning; too many of them (restore.ts) throw a
   * StorageTopicError. Waits (saying so) while the topic does not exist; gives up at once when `retry.abort` aborts.
   */
  static async retrieve(
    config: Readonly<Record<string, string>>,
    topic: string,
    logger: Logger,
    retry: ConnectRetry = DEFAULT_CONNECT_RETRY,
  ): Promise<Uint8Array | undefined> {
    const consumer = new KafkaConsumer(
      { ...config, 'group.id': `forwarder-storage-${randomUUID()}`, 'enable.auto.commit': false },
      {},
    );
    const role = 'storage reader';
    logClientErrors(consumer, role, logger);
    await connectWithRetry(consumer, role, logger, retry);
    try {
      const partitions = await topicOffsets(consumer, topic, 'Storage topic', logger, retry);
      const range = partitions.find(({ partition }) => partition === 0) ?? { low: 0, high: 0 };
      return await newestStoredSet(consumer, topic, range, isStoredStreamSet, logger, retry.abort);
    } finally {
      await new Promise<void>((resolveDisconnect) => consumer.disconnect(() => resolveDisconnect()));
    }
  }
}

function isStoredStreamSet(payload: Uint8Array): boolean {
  const parsed = parseConfigMessage(payload);
  return parsed.ok && (parsed.command.type === 'add' || parsed.command.type === 'removeAll');
}
