import { KafkaJS } from '@confluentinc/kafka-javascript';
import { readFileSync } from 'node:fs';
import type { KafkaBrokerInfo, KafkaListenerName } from './kafka-broker.js';
import { TestKafkaBroker } from './kafka-broker.js';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface ClientAccess {
  listener: KafkaListenerName;
  mechanism?: SaslMechanism;
  user?: string;
  password?: string;
  /** Offer the test client certificate (mutual TLS) on SSL/SASL_SSL listeners. */
  clientCertificate?: boolean;
}

/** A client logger that keeps what it is told, so tests can assert on the client's own error reports. */
export function recordingLogger(lines: string[] = []): KafkaJS.Logger & { lines: string[] } {
  const record = (message: string): void => {
    lines.push(message);
  };
  const logger = {
    lines,
    info: record,
    error: record,
    warn: record,
    debug: record,
    namespace: () => logger,
    setLogLevel: () => undefined,
  };
  return logger;
}

/**
 * A client factory for tests: librdkafka properties; the client's own log goes to `logger` when given,
 * otherwise only its errors reach stderr.
 */
export function kafka(config: Record<string, string>, logger?: KafkaJS.Logger): KafkaJS.Kafka {
  // The brokers come from bootstrap.servers; the typings require them in the kafkaJS block as well.
  const kafkaJS = { logLevel: KafkaJS.logLevel.ERROR, ...(logger ? { logger } : {}) } as KafkaJS.KafkaConfig;
  return new KafkaJS.Kafka({ ...config, kafkaJS });
}

/** librdkafka properties that reach the test broker through one of its listeners. */
export function clientConfig(info: KafkaBrokerInfo, access: ClientAccess): Record<string, string> {
  const config: Record<string, string> = {
    'bootstrap.servers': info.listeners[access.listener],
    'security.protocol': access.listener.toLowerCase(),
  };
  if (access.listener.startsWith('SASL')) {
    const user = access.user ?? 'alice';
    config['sasl.mechanisms'] = access.mechanism ?? 'SCRAM-SHA-512';
    config['sasl.username'] = user;
    config['sasl.password'] = access.password ?? info.users[user] ?? '';
  }
  if (access.listener.endsWith('SSL')) {
    config['ssl.ca.location'] = info.caFile;
    if (access.clientCertificate) {
      config['ssl.certificate.location'] = info.clientCertFile;
      config['ssl.key.location'] = info.clientKeyFile;
    }
  }
  return config;
}

let privateBroker: Promise<TestKafkaBroker> | undefined;

/**
 * The broker for this test run: the one the test runner started (its details in the JSON file named by
 * EKF_TEST_KAFKA), or, when a test file runs on its own, a private broker started on first use and killed when
 * the process exits. Tests that stop or restart a broker start their own TestKafkaBroker instead.
 */
export async function testBroker(): Promise<KafkaBrokerInfo> {
  const file = process.env['EKF_TEST_KAFKA'];
  if (file) return JSON.parse(readFileSync(file, 'utf8')) as KafkaBrokerInfo;
  privateBroker ??= TestKafkaBroker.start().then((broker) => {
    broker.detachFromEventLoop();
    process.once('exit', () => broker.kill());
    return broker;
  });
  return (await privateBroker).info;
}

export function uniqueTopic(stem: string): string {
  return `${stem}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates `topics`, each with `partitions` partitions and the topic settings `entries`. */
export async function createTopics(
  config: Record<string, string>,
  topics: readonly string[],
  partitions = 1,
  entries: Record<string, string> = {},
): Promise<void> {
  const configEntries = Object.entries(entries).map(([name, value]) => ({ name, value }));
  const admin = kafka(config).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, configEntries })),
    });
  } finally {
    await admin.disconnect();
  }
}

export interface TestMessage {
  key?: string | Buffer | null;
  value: string | Buffer;
  timestamp?: string;
}

export async function produceMessages(
  config: Record<string, string>,
  topic: string,
  messages: readonly TestMessage[],
): Promise<void> {
  const producer = kafka(config).producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [...messages] });
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer;
  timestamp: bigint;
  partition: number;
  offset: bigint;
}

/**
 * Reads a topic from the beginning until `count` messages arrived or `timeoutMs` passed, and returns what
 * arrived (fewer than `count` on timeout: the caller's assertion says what was missing).
 */
export async function consumeMessages(
  config: Record<string, string>,
  topic: string,
  options: { count: number; timeoutMs?: number },
): Promise<ConsumedMessage[]> {
  const consumer = kafka(config).consumer({
    'group.id': `test-${Math.random().toString(36).slice(2)}`,
    'auto.offset.reset': 'earliest',
    'enable.auto.commit': false,
  });
  const received: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolveDone) => {
      const timer = setTimeout(resolveDone, options.timeoutMs ?? 20_000);
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({
            key: message.key ?? null,
            value: message.value ?? Buffer.alloc(0),
            timestamp: BigInt(message.timestamp),
            partition,
            offset: BigInt(message.offset),
          });
          if (received.length >= options.count) {
            clearTimeout(timer);
            resolveDone();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** The number of messages ever written to a topic: the sum of its partitions' end offsets. */
export async function topicEndOffset(config: Record<string, string>, topic: string): Promise<number> {
  const admin = kafka(config).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}
