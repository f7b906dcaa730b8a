/**
 * The poll loop against the real binding and broker: an error handed back by a poll (here the offset reset
 * librdkafka reports for a position past the end with auto.offset.reset=error) is reported and reading goes on,
 * where the binding's flowing mode stops reading for good.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { PollLoop } from '../../../src/kafka/poll-loop.js';
import { clientConfig, createTopics, produceMessages, testBroker, uniqueTopic } from '../../support/kafka.js';

let config: Record<string, string>;
const consumers: RdKafka.KafkaConsumer[] = [];

before(async () => {
  config = clientConfig(await testBroker(), { listener: 'PLAINTEXT' });
});

after(async () => {
  await Promise.all(
    consumers.map(
      (consumer) => new Promise<void>((resolveClose) => consumer.disconnect(() => resolveClose())),
    ),
  );
});

/**
 * A consumer of `topic`'s one partition, first placed past its end (so that librdkafka reports an offset reset) or,
 * with `at` 0, at its start.
 */
async function misplacedConsumer(topic: string, at = 1_000): Promise<RdKafka.KafkaConsumer> {
  const consumer = new rdkafka.KafkaConsumer(
    {
      ...config,
      'group.id': `poll-loop-${Math.random().toString(36).slice(2)}`,
      'enable.auto.commit': false,
    },
    { 'auto.offset.reset': 'error' },
  );
  consumers.push(consumer);
  await new Promise<void>((resolveConnect, rejectConnect) =>
    consumer.connect({ timeout: 20_000 }, (error) => (error ? rejectConnect(error) : resolveConnect())),
  );
  consumer.assign([{ topic, partition: 0, offset: at }]);
  return consumer;
}

/** Once the error is in: the partition again, from its start, then one message. */
async function recoverAndProduce(consumer: RdKafka.KafkaConsumer, topic: string): Promise<void> {
  consumer.unassign();
  consumer.assign([{ topic, partition: 0, offset: 0 }]);
  await produceMessages(config, topic, [{ value: 'after the error' }]);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

describe('PollLoop with a real consumer', () => {
  it('reports an error a poll hands back and goes on reading', async () => {
    const topic = uniqueTopic('poll-loop');
    await createTopics(config, [topic]);
    const consumer = await misplacedConsumer(topic);
    const errors: RdKafka.LibrdKafkaError[] = [];
    const values: string[] = [];
    const loop = new PollLoop(
      consumer,
      (message) => values.push(String(message.value)),
      (error) => errors.push(error),
    );
    loop.start();
    assert.ok(await until(() => errors.length > 0, 20_000), 'the offset reset is reported');
    assert.equal(errors[0]!.code, rdkafka.CODES.ERRORS.ERR__AUTO_OFFSET_RESET);
    await recoverAndProduce(consumer, topic);
    assert.ok(await until(() => values.length > 0, 20_000), 'the message after the error is read');
    assert.deepEqual(values, ['after the error']);
    await loop.stop();
  });

  for (const [at, outcome] of [
    [1_000, 'reads nothing more after such an error, and does not report it'],
    [0, 'reads on without the error (control)'],
  ] as const) {
    it(`(why: the binding's flowing mode ${outcome})`, async () => {
      const topic = uniqueTopic('flowing');
      await createTopics(config, [topic]);
      const consumer = await misplacedConsumer(topic, at);
      const errors: RdKafka.LibrdKafkaError[] = [];
      const values: string[] = [];
      consumer.on('data', (message) => values.push(String(message.value)));
      consumer.consume((error) => {
        if (error) errors.push(error);
      });
      // The poll loop above is handed the error within a second.
      await sleep(3_000);
      await recoverAndProduce(consumer, topic);
      assert.equal(await until(() => values.length > 0, 5_000), at === 0, 'read after the re-assignment');
      assert.deepEqual(errors, []);
    });
  }
});
