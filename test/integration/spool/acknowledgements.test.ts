/**
 * The spool's view of what Kafka acknowledged, against a real broker: librdkafka's statistics, per partition, and
 * the partition librdkafka's default partitioner picks for each key (CRC-32 of the key modulo the partition
 * count) agree with what reached each partition, and the spool deletes what Kafka has.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { KafkaProducer } from '../../../src/kafka/producer.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { Spool } from '../../../src/spool/spool.js';
import { SpoolingProducer } from '../../../src/spool/spooling-producer.js';
import { clientConfig, createTopics, testBroker, uniqueTopic } from '../../support/kafka.js';
import type { KafkaBrokerInfo } from '../../support/kafka-broker.js';
import { TopicReader } from '../../support/topic-reader.js';

const PARTITIONS = 4;
const KEYS = 37;
const MESSAGES = 3_000;
let broker: KafkaBrokerInfo;
let dir: string;

describe('spool acknowledgements on a real broker', () => {
  before(async () => {
    broker = await testBroker();
    dir = mkdtempSync(join(tmpdir(), 'ekf-spool-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('follows each partition, deletes what Kafka has, and agrees with where messages landed', async () => {
    const config = clientConfig(broker, { listener: 'PLAINTEXT' });
    const topic = uniqueTopic('spool-acks');
    await createTopics(config, [topic], PARTITIONS);
    const producer = await KafkaProducer.create(config, 'output producer', silentLogger);
    const spool = Spool.open({ dir, sync: false, segmentBytes: 16 * 1024 });
    const sink = new SpoolingProducer(producer, spool, silentLogger, async () => []);
    const keys = Array.from({ length: KEYS }, (_, i) => Buffer.from(`PV:${i}`));
    for (let i = 0; i < MESSAGES; i++) {
      sink.send(topic, keys[i % KEYS] as Buffer, Buffer.from(`message ${i}`), Date.now());
      if (i % 500 === 499) await sleep(200);
    }
    const deadline = Date.now() + 15_000;
    while (spool.figures.bytes > 20 * 1024 && Date.now() < deadline) await sleep(200);
    assert.ok(
      spool.figures.bytes <= 20 * 1024,
      `segments Kafka has are deleted (${spool.figures.bytes} bytes left)`,
    );
    assert.equal(spool.ackMismatches, 0, 'statistics never said more was done than was handed over');
    assert.equal(spool.figures.waiting, 0);
    assert.equal(await sink.close(10_000), true);
    assert.deepEqual(readdirSync(dir), [], 'a spool closed with nothing left leaves no files');

    const reader = await TopicReader.start(config, [topic]);
    try {
      const deadline2 = Date.now() + 30_000;
      while (reader.of(topic).length < MESSAGES && Date.now() < deadline2) await sleep(200);
      const messages = reader.of(topic);
      assert.equal(messages.length, MESSAGES);
      for (const message of messages) {
        const expected = crc32(Buffer.from(message.key ?? '')) % PARTITIONS;
        assert.equal(message.partition, expected, `partition of ${message.key}`);
      }
    } finally {
      await reader.close();
    }
  });
});
