/**
 * The storage topic: after every valid command the whole stream set is saved as one fc00 message (ADD with every
 * stream, or REMOVEALL when empty); at start-up the newest valid message is read back, walking backwards over
 * junk (docs/forwarding.md, "Storage topic"). The topic must have one partition: saves are unkeyed and reads use
 * partition 0.
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
   * Junk is skipped with a warning. Waits (saying so) while the topic does not exist.
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
      const { low, high } = partitions.find(({ partition }) => partition === 0) ?? { low: 0, high: 0 };
      consumer.setDefaultConsumeTimeout(2_000);
      for (let offset = high - 1; offset >= low; offset--) {
        consumer.assign([{ topic, partition: 0, offset }]);
        const messages = await new Promise<rdkafka.Message[]>((resolveConsume, rejectConsume) =>
          consumer.consume(1, (error, consumed) => (error ? rejectConsume(error) : resolveConsume(consumed))),
        );
        const payload = messages[0]?.offset === offset ? messages[0].value : null;
        if (payload && isStoredStreamSet(payload)) return payload;
        logger.warn(
          `Skipping message at offset ${offset} of storage topic ${topic}: not a stored stream set`,
        );
      }
      return undefined;
    } finally {
      await new Promise<void>((resolveDisconnect) => consumer.disconnect(() => resolveDisconnect()));
    }
  }
}

function isStoredStreamSet(payload: Uint8Array): boolean {
  const parsed = parseConfigMessage(payload);
  return parsed.ok && (parsed.command.type === 'add' || parsed.command.type === 'removeAll');
}
