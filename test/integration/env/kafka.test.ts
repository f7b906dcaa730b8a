import assert from 'node:assert/strict';
import type { KafkaJS } from '@confluentinc/kafka-javascript';

import { before, describe, it } from 'node:test';
import type { KafkaBrokerInfo } from '../../support/kafka-broker.js';
import {
  type ClientAccess,
  clientConfig,
  consumeMessages,
  createTopics,
  kafka,
  produceMessages,
  recordingLogger,
  testBroker,
  uniqueTopic,
} from '../../support/kafka.js';

const accesses: Array<{ name: string; access: ClientAccess }> = [
  { name: 'PLAINTEXT', access: { listener: 'PLAINTEXT' } },
  {
    name: 'SASL_PLAINTEXT with PLAIN',
    access: { listener: 'SASL_PLAINTEXT', mechanism: 'PLAIN', user: 'alice' },
  },
  {
    name: 'SASL_PLAINTEXT with SCRAM-SHA-256',
    access: { listener: 'SASL_PLAINTEXT', mechanism: 'SCRAM-SHA-256', user: 'bob' },
  },
  {
    name: 'SASL_PLAINTEXT with SCRAM-SHA-512',
    access: { listener: 'SASL_PLAINTEXT', mechanism: 'SCRAM-SHA-512', user: 'alice' },
  },
  {
    name: 'SASL_SSL with SCRAM-SHA-512',
    access: { listener: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', user: 'bob' },
  },
  { name: 'SASL_SSL with PLAIN', access: { listener: 'SASL_SSL', mechanism: 'PLAIN', user: 'alice' } },
  { name: 'SSL verified against the test CA', access: { listener: 'SSL' } },
  { name: 'SSL with a client certificate', access: { listener: 'SSL', clientCertificate: true } },
];

/** Asks the broker for its topics; fails the way any client would when the credentials are wrong. */
async function listTopics(config: Record<string, string>, logger?: KafkaJS.Logger): Promise<string[]> {
  const admin = kafka({ ...config, 'socket.timeout.ms': '10000' }, logger).admin();
  await admin.connect();
  try {
    return await admin.listTopics({ timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

describe('test Kafka broker (Apache Kafka, KRaft, loopback)', () => {
  let broker: KafkaBrokerInfo;
  before(async () => {
    broker = await testBroker();
  });

  for (const { name, access } of accesses) {
    it(`produces and consumes over ${name}`, async () => {
      const config = clientConfig(broker, access);
      const topic = uniqueTopic('smoke');
      await createTopics(config, [topic]);
      const payload = Buffer.from([0x66, 0x31, 0x34, 0x34, 0x00, 0xff, 0x10]);
      await produceMessages(config, topic, [
        { key: 'SIMPLE:DOUBLE', value: payload, timestamp: '1700000000123' },
        { key: 'SIMPLE:DOUBLE', value: 'second' },
      ]);
      const received = await consumeMessages(config, topic, { count: 2 });
      assert.equal(received.length, 2);
      assert.deepEqual(received[0]?.key, Buffer.from('SIMPLE:DOUBLE'));
      assert.deepEqual(received[0]?.value, payload);
      assert.equal(received[0]?.timestamp, 1700000000123n);
      assert.equal(received[1]?.value.toString(), 'second');
    });
  }

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-512'] as const) {
    it(`refuses a wrong ${mechanism} password with an authentication error`, async () => {
      const config = clientConfig(broker, {
        listener: 'SASL_PLAINTEXT',
        mechanism,
        user: 'alice',
        password: 'not-the-password',
      });
      const logger = recordingLogger();
      await assert.rejects(listTopics(config, logger));
      assert.ok(
        logger.lines.some((line) =>
          /SASL authentication error: .*(Invalid username or password|invalid credentials)/.test(line),
        ),
        `no authentication error among the client's reports: ${logger.lines.join('\n')}`,
      );
    });
  }

  it('refuses TLS when the client does not trust the broker certificate', async () => {
    const config = { ...clientConfig(broker, { listener: 'SSL' }), 'ssl.ca.location': '/etc/ssl/certs' };
    const logger = recordingLogger();
    await assert.rejects(listTopics(config, logger));
    assert.ok(
      logger.lines.some((line) => /certificate verify failed|SSL handshake failed/.test(line)),
      `no TLS verification error among the client's reports: ${logger.lines.join('\n')}`,
    );
  });
});
