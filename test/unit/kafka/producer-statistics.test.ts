import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DeliveredFromStatistics,
  monotonicMicroseconds,
  parseProducerStatistics,
  type ProducerStatistics,
  StatisticsError,
} from '../../../src/kafka/producer-statistics.js';

/**
 * Four statistics of a librdkafka 2.x producer (delivery.report.only.error, statistics every second) recorded
 * against the test broker: 500 messages of 88 bytes produced every 10 ms for 3.5 s (169,000 in all), then a
 * flush; the last was taken after the flush.
 */
const recorded = JSON.parse(
  readFileSync(new URL('fixtures/producer-statistics.json', import.meta.url), 'utf8'),
) as Record<string, unknown>[];

function recordedJson(index: number, change: (document: Record<string, unknown>) => void = () => {}): string {
  const document = structuredClone(recorded[index]!);
  change(document);
  return JSON.stringify(document);
}

describe('parseProducerStatistics', () => {
  it('reads the clock, the messages held and the latency windows of recorded statistics', () => {
    const statistics = parseProducerStatistics(recordedJson(1));
    assert.equal(statistics.takenAtUs, 10_904_862_379);
    assert.equal(statistics.messagesHeld, 500);
    assert.deepEqual(statistics.latency, {
      queue: { p50: 0.005119, p99: 0.008159, max: 0.00878 },
      outbuf: { p50: 0.000069, p99: 0.002191, max: 0.004766 },
      rtt: { p50: 0.002239, p99: 0.109055, max: 0.114795 },
    });
  });

  it('finds nothing held after a flush', () => {
    assert.equal(parseProducerStatistics(recordedJson(3)).messagesHeld, 0);
  });

  it('takes the slowest broker of each stage and leaves out windows without samples', () => {
    const json = recordedJson(1, (document) => {
      const brokers = document['brokers'] as Record<string, Record<string, Record<string, number>>>;
      const [name, broker] = Object.entries(brokers)[0]!;
      const slowRtt = { ...broker['rtt']!, p50: 9_000, p99: 50_000, max: 200_000 };
      const idle = { ...broker['int_latency']!, cnt: 0, p50: 1e9, p99: 1e9, max: 1e9 };
      brokers[`${name}-slow`] = { ...broker, rtt: slowRtt, int_latency: idle, outbuf_latency: idle };
      brokers['bootstrap'] = { ...broker, rtt: idle, int_latency: idle, outbuf_latency: idle };
    });
    const { latency } = parseProducerStatistics(json);
    assert.deepEqual(latency.rtt, { p50: 0.009, p99: 0.109055, max: 0.2 });
    assert.deepEqual(latency.queue, { p50: 0.005119, p99: 0.008159, max: 0.00878 });
  });

  it('has no latency before any broker sampled one', () => {
    const json = recordedJson(0, (document) => {
      document['brokers'] = {};
    });
    assert.deepEqual(parseProducerStatistics(json).latency, {});
  });

  it('refuses statistics without the fields it uses', () => {
    assert.throws(() => parseProducerStatistics('{"ts": 1'), StatisticsError);
    assert.throws(() => parseProducerStatistics('[]'), StatisticsError);
    assert.throws(
      () =>
        parseProducerStatistics(
          recordedJson(1, (document) => {
            delete document['msg_cnt'];
          }),
        ),
      /msg_cnt/,
    );
    assert.throws(
      () =>
        parseProducerStatistics(
          recordedJson(1, (document) => {
            document['ts'] = 'soon';
          }),
        ),
      /ts/,
    );
  });

  it('uses the clock librdkafka uses', () => {
    // librdkafka's ts is CLOCK_MONOTONIC in µs; ours must be within the run of the recording's order of size.
    const now = monotonicMicroseconds();
    assert.ok(Number.isSafeInteger(now) && now > 0);
    assert.ok(Math.abs(monotonicMicroseconds() - now) < 1_000_000);
  });
});

function statistics(takenAtUs: number, messagesHeld: number): ProducerStatistics {
  return { takenAtUs, messagesHeld, latency: {}, topics: new Map() };
}

describe('DeliveredFromStatistics', () => {
  it('counts what was produced before a reading, less what librdkafka held and what failed by the next', () => {
    const tally = new DeliveredFromStatistics();
    // First reading: no count of ours was taken before it yet.
    tally.update(statistics(1_000_000, 300), 1_020_000, 1_000, 0);
    assert.equal(tally.delivered, 0);
    assert.equal(tally.messagesHeld, 300);
    // Second reading at 2 s: 1,000 were queued by 1.02 s, 400 held at 2 s.
    tally.update(statistics(2_000_000, 400), 2_030_000, 2_000, 5);
    assert.equal(tally.delivered, 0, 'applied one reading later');
    assert.equal(tally.messagesHeld, 400);
    // Third reading: the failures counted by now (7) are subtracted from the second reading's figures.
    tally.update(statistics(3_000_000, 100), 3_010_000, 3_000, 7);
    assert.equal(tally.delivered, 1_000 - 400 - 7);
    // Fourth: 2,000 queued by 2.03 s, 100 held at 3 s.
    tally.update(statistics(4_000_000, 0), 4_010_000, 3_000, 7);
    assert.equal(tally.delivered, 2_000 - 100 - 7);
  });

  it('never counts a count taken after (or just before) the reading, and never goes down', () => {
    const tally = new DeliveredFromStatistics();
    tally.update(statistics(1_000_000, 0), 1_000_000, 1_000, 0);
    // A reading taken a moment after our count: librdkafka reads msg_cnt just before its clock, so the count may
    // hold messages the reading does not: skipped.
    tally.update(statistics(1_005_000, 0), 1_500_000, 1_500, 0);
    tally.update(statistics(2_000_000, 0), 2_000_000, 2_000, 0);
    assert.equal(tally.delivered, 0);
    // The reading at 2 s uses the count taken at 1.5 s.
    tally.update(statistics(3_000_000, 900), 3_000_000, 3_000, 0);
    assert.equal(tally.delivered, 1_500);
    // 2,000 queued by 2 s but 900 held at 3 s and 700 failed since: 400 would be less than already counted.
    tally.update(statistics(4_000_000, 0), 4_000_000, 3_000, 700);
    assert.equal(tally.delivered, 1_500);
  });

  it('estimates nothing when librdkafka clock is not ours', () => {
    const tally = new DeliveredFromStatistics();
    const wallClockUs = 1_795_484_723_000_000;
    for (let second = 1; second <= 4; second++)
      tally.update(statistics(wallClockUs + second * 1e6, 0), second * 1e6, second * 1_000, 0);
    assert.equal(tally.delivered, 0);
    assert.equal(tally.messagesHeld, 0);
  });

  it('is exact once settled after a flush', () => {
    const tally = new DeliveredFromStatistics();
    tally.update(statistics(1_000_000, 50), 1_010_000, 100, 0);
    tally.update(statistics(2_000_000, 50), 2_010_000, 200, 0);
    tally.settle(250, 3);
    assert.equal(tally.delivered, 247);
    assert.equal(tally.messagesHeld, 0);
    // A reading that was on its way changes nothing any more.
    tally.update(statistics(3_000_000, 0), 3_010_000, 250, 3);
    assert.equal(tally.delivered, 247);
  });
});
