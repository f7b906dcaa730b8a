/**
 * The spool in front of a producer, with a stand-in for Kafka that takes messages into a bounded queue and delivers
 * them when told to, reporting its progress in librdkafka's statistics form. The spool's files are real.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { ProducerStatistics } from '../../../src/kafka/producer-statistics.js';
import type { TailMessage, TailRequest } from '../../../src/kafka/partition-tail.js';
import type { ProduceResult } from '../../../src/kafka/producer.js';
import { silentLogger } from '../../../src/logging/logger.js';
import type { FileWriter } from '../../../src/spool/segments.js';
import { Spool } from '../../../src/spool/spool.js';
import { SpoolingProducer, type SpoolTarget } from '../../../src/spool/spooling-producer.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ekf-spool-'));
  dirs.push(dir);
  return dir;
}

/** Kafka as the spool sees it: a queue of `room` messages, delivered on demand, one partition per topic. */
class StandInKafka implements SpoolTarget {
  room = Number.POSITIVE_INFINITY;
  readonly queued: string[] = [];
  readonly delivered: string[] = [];
  readonly refusedReasons: string[] = [];
  private produced = 0;
  private listener: ((statistics: ProducerStatistics) => void) | undefined;

  tryProduce(_topic: string, _key: Buffer | null, payload: Uint8Array): ProduceResult {
    if (this.queued.length >= this.room) return 'full';
    this.queued.push(Buffer.from(payload).toString());
    this.produced++;
    return 'queued';
  }

  refused(_topic: string, _key: Buffer | null, reason: string): void {
    this.refusedReasons.push(reason);
  }

  onStatistics(listener: (statistics: ProducerStatistics) => void): void {
    this.listener = listener;
  }

  /** Kafka writes the oldest `count` queued messages, and goes away before it acknowledges them. */
  writeWithoutAcknowledging(count: number): void {
    this.delivered.push(...this.queued.splice(0, count));
  }

  /** What a restarted forwarder reads back from the one partition: its last messages. */
  readonly readTails = async (requests: readonly TailRequest[]): Promise<TailMessage[][]> =>
    requests.map(({ count }) =>
      this.delivered.slice(-count).map((value) => ({ key, value: Buffer.from(value) })),
    );

  /** Kafka acknowledges what is queued, and librdkafka's next statistics say so. */
  deliver(): void {
    this.delivered.push(...this.queued.splice(0));
    this.statistics();
  }

  statistics(): void {
    const partitions = new Map([[0, { produced: this.produced, held: this.queued.length }]]);
    this.listener?.({
      takenAtUs: 0,
      messagesHeld: this.queued.length,
      latency: {},
      topics: new Map([['data', { partitionCount: 1, partitions }]]),
    });
  }

  async flush(): Promise<boolean> {
    return this.queued.length === 0;
  }

  async close(): Promise<boolean> {
    return this.queued.length === 0;
  }
}

const key = Buffer.from('PV:COUNT');

function send(sink: SpoolingProducer, from: number, count: number): void {
  for (let i = from; i < from + count; i++) sink.send('data', key, Buffer.from(String(i)), 1_000 + i);
}

const numbers = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => String(from + i));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 5_000) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the spool in front of the producer', () => {
  it('hands messages straight over while Kafka keeps up, and deletes what Kafka acknowledged', async () => {
    const kafka = new StandInKafka();
    const sink = new SpoolingProducer(
      kafka,
      Spool.open({ dir: spoolDir(), sync: false }),
      silentLogger,
      kafka.readTails,
    );
    kafka.statistics();
    send(sink, 0, 100);
    assert.deepEqual(kafka.queued, numbers(0, 100));
    assert.equal(sink.spool.figures.waiting, 0);
    kafka.deliver();
    assert.equal(await sink.close(1000), true);
  });

  it('keeps messages Kafka cannot take, lets none overtake them, and hands them over in order when it can', async () => {
    const kafka = new StandInKafka();
    const sink = new SpoolingProducer(
      kafka,
      Spool.open({ dir: spoolDir(), sync: false }),
      silentLogger,
      kafka.readTails,
    );
    kafka.statistics();
    kafka.room = 10;
    send(sink, 0, 50);
    assert.deepEqual(kafka.queued, numbers(0, 10));
    assert.equal(sink.spool.figures.waiting, 40);
    assert.equal(sink.spool.figures.oldestWaitingMs, 1_010);
    kafka.deliver();
    kafka.room = Number.POSITIVE_INFINITY;
    send(sink, 50, 10);
    assert.deepEqual(kafka.queued, [], 'new messages wait behind the spooled ones');
    await until(() => sink.spool.figures.waiting === 0, 'the replay');
    kafka.deliver();
    assert.deepEqual(kafka.delivered, numbers(0, 60));
    send(sink, 60, 5);
    assert.deepEqual(kafka.queued, numbers(60, 5), 'direct again once nothing waits');
    kafka.deliver();
    await sink.close(1000);
  });

  it('keeps what waits across a stop, and a new start sends exactly what Kafka did not have, in order', async () => {
    const dir = spoolDir();
    const kafka = new StandInKafka();
    const sink = new SpoolingProducer(kafka, Spool.open({ dir, sync: false }), silentLogger, kafka.readTails);
    kafka.statistics();
    send(sink, 0, 20);
    kafka.deliver(); // 0..19 acknowledged, and the statistics say so
    kafka.room = 25; // Kafka goes away: 20..44 wait in librdkafka, the rest in the spool
    send(sink, 20, 100);
    kafka.writeWithoutAcknowledging(5); // 20..24 reached Kafka, but no acknowledgement came back
    assert.equal(await sink.close(100), false);
    const again = new StandInKafka();
    const restarted = new SpoolingProducer(
      again,
      Spool.open({ dir, sync: false }),
      silentLogger,
      kafka.readTails,
    );
    again.statistics();
    await until(() => restarted.spool.figures.waiting === 0, 'the replay after the restart');
    again.deliver();
    assert.deepEqual(
      [...kafka.delivered, ...again.delivered],
      numbers(0, 120),
      'nothing twice, nothing missing',
    );
    assert.equal(restarted.spool.figures.skippedAtStart, 25, 'the 20 acknowledged and the 5 found on Kafka');
    await restarted.close(100);
  });

  it('drops the newest messages when full, counts and reports them, and takes messages again once there is room', async () => {
    const kafka = new StandInKafka();
    const sink = new SpoolingProducer(
      kafka,
      Spool.open({ dir: spoolDir(), sync: false, maxBytes: 3_000 }),
      silentLogger,
      kafka.readTails,
    );
    kafka.statistics();
    kafka.room = 0;
    send(sink, 0, 200);
    const { dropped, waiting } = sink.spool.figures;
    assert.ok(
      dropped > 0 && waiting > 0 && dropped + waiting === 200,
      `${dropped} dropped, ${waiting} waiting`,
    );
    assert.equal(kafka.refusedReasons.length, dropped);
    assert.match(kafka.refusedReasons[0] ?? '', /spool is full/);
    kafka.room = Number.POSITIVE_INFINITY;
    await until(() => sink.spool.figures.waiting === 0, 'the replay');
    kafka.deliver();
    assert.deepEqual(kafka.delivered, numbers(0, waiting), 'the oldest were kept');
    await sink.close(1000);
  });
  it('goes on when the disk refuses writes: unspooled while Kafka takes messages, dropped and counted otherwise', async () => {
    let diskFull = false;
    const write: FileWriter = (fd, buffer, offset, length, position) => {
      if (diskFull) throw new Error('ENOSPC: no space left on device, write');
      return writeSync(fd, buffer, offset, length, position);
    };
    const kafka = new StandInKafka();
    const sink = new SpoolingProducer(
      kafka,
      Spool.open({ dir: spoolDir(), sync: false, write }),
      silentLogger,
      kafka.readTails,
    );
    kafka.statistics();
    diskFull = true;
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < 30; i++) sink.send('data', key, big, i);
    assert.equal(kafka.queued.length, 30, 'Kafka took every message, spooled or not');
    assert.match(sink.spool.figures.writeError ?? '', /ENOSPC/);
    kafka.room = 0;
    for (let i = 0; i < 30; i++) sink.send('data', key, big, i);
    assert.equal(sink.spool.figures.dropped, 30, 'room neither in the spool nor in Kafka: dropped');
    assert.match(kafka.refusedReasons[0] ?? '', /cannot write to disk/);
    diskFull = false;
    kafka.room = Number.POSITIVE_INFINITY;
    await until(() => sink.spool.figures.writeError === undefined, 'the disk written again');
    send(sink, 0, 5);
    assert.deepEqual(kafka.queued.slice(-5), numbers(0, 5), 'spooled and handed over again');
    kafka.deliver();
    assert.equal(await sink.close(1000), true);
  });
});
