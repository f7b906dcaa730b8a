import { after, before } from 'node:test';
import type { KafkaBrokerInfo } from './kafka-broker.js';
import { clientConfig, createTopics, produceMessages, testBroker, uniqueTopic } from './kafka.js';
import { ForwarderProcess } from './forwarder.js';
import { TestIoc } from './ioc.js';
import { TopicReader } from './topic-reader.js';
import { Protocol } from '../../src/schemas/index.js';

/** The topics one forwarder under test uses, each with one partition. */
export interface ForwarderTopics {
  readonly config: string;
  readonly status: string;
  readonly storage: string;
  readonly data: string;
}

/**
 * What an end-to-end test needs: the run's broker, fresh topics, a test IOC, a reader of every topic, and a way
 * to start forwarder-launch against them. Registered with before/after so everything stops after the suite.
 */
export class ForwarderWorld {
  broker!: KafkaBrokerInfo;
  ioc!: TestIoc;
  reader!: TopicReader;
  topics!: ForwarderTopics;
  /** More output topics, by the stems given to setUp (`extraTopics`); read like the others. */
  readonly extraTopics: Record<string, string> = {};
  readonly forwarders: ForwarderProcess[] = [];

  static setUp(options: { ioc?: boolean; extraTopics?: readonly string[] } = {}): ForwarderWorld {
    const world = new ForwarderWorld();
    before(async () => {
      world.broker = await testBroker();
      world.topics = {
        config: uniqueTopic('commands'),
        status: uniqueTopic('status'),
        storage: uniqueTopic('storage'),
        data: uniqueTopic('data'),
      };
      for (const stem of options.extraTopics ?? []) world.extraTopics[stem] = uniqueTopic(stem);
      const allTopics = [...Object.values(world.topics), ...Object.values(world.extraTopics)];
      await createTopics(world.kafkaConfig, allTopics);
      world.reader = await TopicReader.start(world.kafkaConfig, allTopics);
      if (options.ioc !== false) world.ioc = await TestIoc.start();
    });
    after(async () => {
      await Promise.all(world.forwarders.map((forwarder) => forwarder.stop('SIGKILL')));
      await world.reader?.close();
      await world.ioc?.stop();
    });
    return world;
  }

  /**
   * CA into the data topic and PVA into the extra topic `pva` (setUp with `extraTopics: ['pva']`), for tests that
   * hold the two protocols side by side.
   */
  readonly caAndPva = [
    { name: 'CA', protocol: Protocol.CA, topic: (): string => this.topics.data },
    { name: 'PVA', protocol: Protocol.PVA, topic: (): string => this.extraTopic('pva') },
  ] as const;

  /** The f144 streams (no periodic re-send) of the IOC's `records`, each over CA and PVA (`caAndPva`). */
  f144StreamsOverCaAndPva(records: readonly string[]) {
    return this.caAndPva.flatMap(({ protocol, topic }) =>
      records.map((record) => ({
        channel: this.ioc.pv(record),
        schema: 'f144',
        topic: topic(),
        protocol,
        periodic: 0,
      })),
    );
  }

  /** The topic created for `stem`, one of setUp's `extraTopics`. */
  extraTopic(stem: string): string {
    const topic = this.extraTopics[stem];
    if (topic === undefined) throw new Error(`no extra topic '${stem}' was set up`);
    return topic;
  }

  get kafkaConfig(): Record<string, string> {
    return clientConfig(this.broker, { listener: 'PLAINTEXT' });
  }

  /** host:port/topic on the PLAINTEXT listener. */
  uri(topic = ''): string {
    return `${this.broker.listeners.PLAINTEXT}${topic ? `/${topic}` : ''}`;
  }

  /** The usual command line: every topic of this world, plus `extra`. */
  standardArguments(extra: readonly string[] = []): string[] {
    return [
      '--config-topic',
      this.uri(this.topics.config),
      '--status-topic',
      this.uri(this.topics.status),
      '--output-broker',
      this.uri(),
      '--storage-topic',
      this.uri(this.topics.storage),
      '--status-interval',
      '1000',
      '--verbosity',
      'Debug',
      ...extra,
    ];
  }

  /** Starts forwarder-launch and waits until it listens for commands. */
  async startForwarder(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ForwarderProcess> {
    const forwarder = ForwarderProcess.start(args, { ...(this.ioc ? this.ioc.clientEnv : {}), ...env });
    this.forwarders.push(forwarder);
    await forwarder.waitForOutput(/Listening for commands/, 60_000);
    return forwarder;
  }

  async sendCommand(payload: Uint8Array): Promise<void> {
    await produceMessages(this.kafkaConfig, this.topics.config, [{ value: Buffer.from(payload) }]);
  }
}

/**
 * The options that make a forwarder member `serviceId` of forwarding group `groupId` (with `partitions`
 * coordination partitions when given), logging at Info so that tests can follow its group's steps.
 */
export function groupMemberArguments(
  serviceId: string,
  groupId: string,
  sessionTimeoutMs: number,
  partitions?: number,
): string[] {
  return [
    '--service-id',
    serviceId,
    '--group-id',
    groupId,
    ...(partitions === undefined ? [] : ['--group-partitions', String(partitions)]),
    '--group-session-timeout',
    String(sessionTimeoutMs),
    '--verbosity',
    'Info',
  ];
}
