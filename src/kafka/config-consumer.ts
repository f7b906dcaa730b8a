/**
 * The config-topic consumer. Like the ESS forwarder it reads only commands sent after
 * it starts, from a fresh consumer identity: commands sent while the forwarder is down are not replayed (the
 * storage topic restores the stream set instead). Unlike the ESS forwarder it does not join a consumer group: it
 * reads every partition's end offset and assigns itself there, so once start-up says it is listening, no command
 * can slip past it, and no group is left behind on the brokers.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import { type ConnectRetry, connectWithRetry, DEFAULT_CONNECT_RETRY, logClientErrors } from './connect.js';
import { logPollErrors, PollLoop } from './poll-loop.js';
import { topicOffsets } from './topic-offsets.js';

const { KafkaConsumer } = rdkafka;

export class ConfigConsumer {
  private constructor(
    private readonly consumer: RdKafka.KafkaConsumer,
    private readonly loop: PollLoop,
  ) {}

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
    const assignments = (await topicOffsets(consumer, topic, 'Config topic', logger, retry)).map(
      ({ partition, high }) => ({ topic, partition, offset: high }),
    );
    const loop = new PollLoop(
      consumer,
      (message) => {
        if (message.value) onMessage(message.value);
      },
      logPollErrors(role, logger),
    );
    consumer.assign(assignments);
    loop.start();
    return new ConfigConsumer(consumer, loop);
  }

  async close(): Promise<void> {
    await this.loop.stop();
    await new Promise<void>((resolveDisconnect) => this.consumer.disconnect(() => resolveDisconnect()));
  }
}
