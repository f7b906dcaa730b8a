/**
 * What the reliability tests share: a private broker they may stop and start, fresh topics on it, a test IOC,
 * forwarders started against them, and exact readings of what reached a topic and what the forwarder says it
 * produced.
 */
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForwarderProcess } from '../../support/forwarder.js';
import { TestIoc } from '../../support/ioc.js';
import { TestKafkaBroker } from '../../support/kafka-broker.js';
import {
  clientConfig,
  createTopics,
  produceMessages,
  topicEndOffset,
  uniqueTopic,
} from '../../support/kafka.js';
import { type ReadMessage, TopicReader } from '../../support/topic-reader.js';

export class ReliabilityWorld {
  broker!: TestKafkaBroker;
  ioc!: TestIoc;
  readonly forwarders: ForwarderProcess[] = [];
  private readonly readers: TopicReader[] = [];

  static setUp(options: { ioc?: boolean } = {}): ReliabilityWorld {
    const world = new ReliabilityWorld();
    before(async () => {
      const [broker, ioc] = await Promise.all([
        TestKafkaBroker.start(),
        options.ioc === false ? undefined : TestIoc.start(),
      ]);
      world.broker = broker;
      if (ioc) world.ioc = ioc;
    });
    after(async () => {
      await Promise.all(world.forwarders.map((forwarder) => forwarder.stop('SIGKILL')));
      // Bounded: a consumer that lived through a broker restart may never call back from disconnect.
      await Promise.race([Promise.all(world.readers.map((reader) => reader.close())), sleep(10_000)]);
      await world.ioc?.stop();
      await world.broker?.destroy();
    });
    return world;
  }

  get kafkaConfig(): Record<string, string> {
    return clientConfig(this.broker.info, { listener: 'PLAINTEXT' });
  }

  uri(topic = ''): string {
    return `${this.broker.info.listeners.PLAINTEXT}${topic ? `/${topic}` : ''}`;
  }

  /** Creates one-partition topics named after `stems`. */
  async topics<const T extends readonly string[]>(...stems: T): Promise<Record<T[number], string>> {
    const named = Object.fromEntries(stems.map((stem) => [stem, uniqueTopic(stem)])) as Record<
      T[number],
      string
    >;
    await createTopics(this.kafkaConfig, Object.values(named));
    return named;
  }

  /** forwarder-launch on this world's broker: config, status, output (and storage if given) plus `extra`. */
  async startForwarder(
    topics: { config: string; status: string; storage?: string },
    extra: readonly string[] = [],
  ): Promise<ForwarderProcess> {
    const forwarder = this.launchForwarder(topics, extra);
    await forwarder.waitForOutput(/Listening for commands/, 60_000);
    return forwarder;
  }

  /** As startForwarder, without waiting for it to listen (for a start while the broker is away). */
  launchForwarder(
    topics: { config: string; status: string; storage?: string },
    extra: readonly string[] = [],
  ): ForwarderProcess {
    const args = [
      '--config-topic',
      this.uri(topics.config),
      '--status-topic',
      this.uri(topics.status),
      '--output-broker',
      this.uri(),
      ...(topics.storage ? ['--storage-topic', this.uri(topics.storage)] : []),
      '--status-interval',
      '1000',
      '--verbosity',
      'Debug',
      ...extra,
    ];
    const forwarder = ForwarderProcess.start(args, this.ioc ? this.ioc.clientEnv : {});
    this.forwarders.push(forwarder);
    return forwarder;
  }

  async send(topic: string, payloads: readonly Uint8Array[]): Promise<void> {
    await produceMessages(
      this.kafkaConfig,
      topic,
      payloads.map((payload) => ({ value: Buffer.from(payload) })),
    );
  }

  /** A reader of `topics` from their beginning, closed after the suite. */
  async reader(topics: readonly string[]): Promise<TopicReader> {
    const reader = await TopicReader.start(this.kafkaConfig, topics);
    this.readers.push(reader);
    return reader;
  }

  /**
   * Everything on `topic` now: a fresh reader from the beginning, waited on until it has read as many messages as
   * the topic's end offset says were written (waiting for quiet instead can stop early on a loaded machine).
   */
  async readAll(topic: string): Promise<ReadMessage[]> {
    const expected = await topicEndOffset(this.kafkaConfig, topic);
    const reader = await TopicReader.start(this.kafkaConfig, [topic]);
    try {
      const deadline = Date.now() + 60_000;
      while (reader.of(topic).length < expected && Date.now() < deadline) await sleep(250);
      return [...reader.of(topic)];
    } finally {
      await reader.close();
    }
  }
}

/** The resident set size of a process, in MiB. */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

export interface ProducerTotals {
  queued: number;
  delivered: number;
  failedDelivery: number;
  refused: number;
}

/** The output producer's totals from the line a forwarder logs when it stops. */
export function producerTotals(output: string): ProducerTotals {
  const match =
    /Output producer totals: (\d+) messages queued, (\d+) delivered, (\d+) failed delivery, (\d+) refused/.exec(
      output,
    );
  if (!match) throw new Error(`no producer totals in the forwarder's output:\n${output.slice(-3000)}`);
  const [queued, delivered, failedDelivery, refused] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  return { queued, delivered, failedDelivery, refused };
}

/** How many output lines match `pattern`. */
export function countLines(output: string, pattern: RegExp): number {
  return output.split('\n').filter((line) => pattern.test(line)).length;
}

/** The tick values (f144, keyed by the PV) in the order they are on the topic. */
export function tickValues(messages: readonly ReadMessage[], pvName: string): number[] {
  const values: number[] = [];
  for (const message of messages) {
    if (message.key !== pvName || message.decoded?.schema !== 'f144') continue;
    const { value } = message.decoded.message;
    if (value.kind === 'scalar') values.push(Number(value.value));
  }
  return values;
}

export interface Coverage {
  first: number;
  last: number;
  /** Values between first and last that never arrived, as runs [from, to]. */
  gaps: Array<[number, number]>;
  missing: number;
  duplicates: number;
}

export function coverage(values: readonly number[]): Coverage {
  const unique = [...new Set(values)].sort((a, b) => a - b);
  const gaps: Array<[number, number]> = [];
  for (let i = 1; i < unique.length; i++) {
    const [previous, current] = [unique[i - 1]!, unique[i]!];
    if (current > previous + 1) gaps.push([previous + 1, current - 1]);
  }
  return {
    first: unique[0] ?? NaN,
    last: unique.at(-1) ?? NaN,
    gaps,
    missing: gaps.reduce((sum, [from, to]) => sum + to - from + 1, 0),
    duplicates: values.length - unique.length,
  };
}
