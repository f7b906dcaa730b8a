/**
 * Kafka outages during steady forwarding (docs/reliability.md, "Kafka outage"). One private broker is stopped
 * for 30 s while three forwarders forward the IOC's 10 Hz `tick` counter, each with a different librdkafka
 * buffer, so one outage shows all three outcomes:
 * - default buffer (5 min, 100,000 messages): everything produced during the outage arrives after it;
 * - message.timeout.ms=5000: the oldest are dropped (failed delivery), the newest kept;
 * - queue.buffering.max.messages=2000 under a fake-PV load: the newest are refused while the queue is full;
 *   the forwarder's memory stays flat.
 * Every drop is counted (the producer totals a forwarder logs when it stops) and logged at most once per 10 s.
 * After the outage the config topic is read again: a stream added then is forwarded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Protocol, serialiseFc00, UpdateType, type Fc00Stream } from '../../../src/schemas/index.js';
import type { ForwarderProcess } from '../../support/forwarder.js';
import type { ReadMessage } from '../../support/topic-reader.js';
import { countLines, coverage, producerTotals, ReliabilityWorld, rssMiB, tickValues } from './world.js';

const world = ReliabilityWorld.setUp();

const OUTAGE_MS = 30_000;
const FAKE_STREAMS = 50;
const FAKE_PERIOD_MS = 20;

describe('forwarder: Kafka outage of 30 s during steady forwarding', { timeout: 300_000 }, () => {
  it('keeps what its buffer holds, drops the rest by policy, counts and logs it, and stays bounded', async () => {
    const topics = await world.topics(
      'config-a',
      'config-b',
      'config-c',
      'status',
      'lossless',
      'expiring',
      'bounded',
    );
    const tick = world.ioc.pv('tick');
    const tickStream = (topic: string): Fc00Stream => ({
      channel: tick,
      schema: 'f144',
      topic,
      protocol: Protocol.CA,
      periodic: 0,
    });
    const setups: Array<{
      name: string;
      config: string;
      data: string;
      extra: string[];
      streams: Fc00Stream[];
    }> = [
      { name: 'lossless', config: topics['config-a'], data: topics.lossless, extra: [], streams: [] },
      {
        name: 'expiring',
        config: topics['config-b'],
        data: topics.expiring,
        extra: ['--kafka-config', 'message.timeout.ms=5000'],
        streams: [],
      },
      {
        name: 'bounded',
        config: topics['config-c'],
        data: topics.bounded,
        extra: [
          '--kafka-config',
          'queue.buffering.max.messages=2000',
          '--fake-pv-period',
          String(FAKE_PERIOD_MS),
        ],
        streams: Array.from({ length: FAKE_STREAMS }, (_, i) => ({
          channel: `load:${i}`,
          schema: 'f144',
          topic: topics.bounded,
          protocol: Protocol.FAKE,
          periodic: 0,
        })),
      },
    ];
    const forwarders = await Promise.all(
      setups.map((setup) =>
        world.startForwarder({ config: setup.config, status: topics.status }, setup.extra),
      ),
    );
    const [lossless, expiring, bounded] = forwarders as [
      ForwarderProcess,
      ForwarderProcess,
      ForwarderProcess,
    ];
    for (const setup of setups) {
      await world.send(setup.config, [
        serialiseFc00({ configChange: UpdateType.ADD, streams: [tickStream(setup.data), ...setup.streams] }),
      ]);
    }
    const live = await world.reader(setups.map((setup) => setup.data));
    for (const setup of setups) {
      await live.waitFor(
        setup.data,
        (messages) => tickValues(messages, tick).length >= 20,
        30_000,
        `20 tick values on ${setup.name}`,
      );
    }

    await world.broker.stop();
    const outageStartedAt = Date.now();
    const rss: number[] = [];
    while (Date.now() - outageStartedAt < OUTAGE_MS) {
      await sleep(2_000);
      rss.push(rssMiB(bounded.child.pid!));
    }
    for (const forwarder of forwarders)
      assert.equal(
        forwarder.child.exitCode,
        null,
        `a forwarder exited during the outage:\n${forwarder.output}`,
      );
    await world.broker.start();
    // The config topic is read again after the outage: a stream added now is forwarded.
    const counter = world.ioc.pv('counter');
    await world.send(topics['config-a'], [
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: [{ ...tickStream(topics.lossless), channel: counter }],
      }),
    ]);
    // Let the buffered messages go out and fresh ones follow, then stop: shutdown flushes the rest. The added
    // stream's values (1 Hz) follow once the config consumer is back, which takes longer on a busy machine.
    await sleep(10_000);
    await live
      .waitFor(
        topics.lossless,
        (messages) => tickValues(messages, counter).length >= 3,
        30_000,
        'values of the stream added after the outage',
      )
      .catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; the forwarder said:\n${lossless.output}`);
      });
    const results = await Promise.all(forwarders.map((forwarder) => forwarder.stop('SIGTERM')));
    for (const [i, result] of results.entries())
      assert.deepEqual(result, { code: 0, signal: null }, `${setups[i]!.name} ends cleanly`);

    const arrived = await Promise.all(setups.map((setup) => world.readAll(setup.data)));
    const [losslessMessages, expiringMessages, boundedMessages] = arrived as [
      ReadMessage[],
      ReadMessage[],
      ReadMessage[],
    ];
    const report: Record<string, unknown> = {};

    // Default buffer: every tick value from the first to the last is there, none twice.
    const losslessTotals = producerTotals(lossless.output);
    const losslessTicks = coverage(tickValues(losslessMessages, tick));
    report['lossless'] = { totals: losslessTotals, ticks: losslessTicks, messages: losslessMessages.length };
    assert.ok(
      losslessTicks.last - losslessTicks.first >= (OUTAGE_MS / 100) * 0.9,
      'the run spans the outage',
    );
    assert.deepEqual(losslessTicks.gaps, [], 'no tick value lost');
    assert.equal(losslessTicks.duplicates, 0, 'no tick value twice');
    assert.deepEqual(
      [losslessTotals.failedDelivery, losslessTotals.refused, losslessTotals.delivered],
      [0, 0, losslessTotals.queued],
      'everything queued was delivered',
    );
    assert.equal(losslessMessages.length, losslessTotals.delivered, 'the topic holds what was delivered');
    const counterValues = tickValues(losslessMessages, counter).length;
    assert.ok(counterValues >= 3, `a stream added after the outage is forwarded (${counterValues} values)`);

    // 5 s timeout: one run of the oldest outage values is missing, exactly as many as failed delivery.
    const expiringTotals = producerTotals(expiring.output);
    const expiringTicks = coverage(tickValues(expiringMessages, tick));
    const failedLogLines = countLines(expiring.output, /output producer: message failed delivery/);
    assert.equal(expiringTicks.gaps.length, 1, 'one run of values lost (the oldest of the outage)');
    assert.ok(expiringTicks.missing >= ((OUTAGE_MS - 5_000) / 100) * 0.8, 'most outage values expired');
    // A message in flight when the broker went away times out although the broker may have written it
    // (librdkafka's "possibly persisted"): counted as failed, yet on the topic. At 10 Hz that is one or two.
    const possiblyPersisted = expiringTotals.failedDelivery - expiringTicks.missing;
    report['expiring'] = { totals: expiringTotals, ticks: expiringTicks, failedLogLines, possiblyPersisted };
    assert.ok(
      possiblyPersisted >= 0 && possiblyPersisted <= 3,
      `every lost value is counted (${expiringTicks.missing} missing, ${expiringTotals.failedDelivery} failed)`,
    );
    assert.equal(expiringTicks.duplicates, 0, 'no tick value twice');
    assert.equal(expiringTotals.refused, 0);
    assert.equal(expiringTotals.queued, expiringTotals.delivered + expiringTotals.failedDelivery);
    assert.equal(
      expiringMessages.length,
      expiringTotals.delivered + possiblyPersisted,
      'the topic holds what was delivered, and what timed out in flight',
    );
    assert.ok(failedLogLines >= 1 && failedLogLines <= OUTAGE_MS / 10_000 + 2, 'logged once per 10 s');

    // 2,000-message queue under load: the newest are refused while it is full, memory stays flat.
    const boundedTotals = producerTotals(bounded.output);
    const boundedTicks = coverage(tickValues(boundedMessages, tick));
    const refusedLogLines = countLines(bounded.output, /output producer: could not queue a message/);
    const rssGrowth = Math.max(...rss.slice(rss.length / 2)) - (rss[1] ?? NaN);
    // A batch in flight when the broker went away, written by the broker but not acknowledged, is sent again by
    // librdkafka's retry; the producer is idempotent, so the broker drops the copy. (Without idempotence, as in the
    // reference forwarder, CI once found 50 messages twice here.)
    const boundedRewritten = boundedMessages.length - boundedTotals.delivered;
    report['bounded'] = {
      totals: boundedTotals,
      rewritten: boundedRewritten,
      ticks: { ...boundedTicks, gaps: boundedTicks.gaps.length },
      messages: boundedMessages.length,
      refusedLogLines,
      rssMiB: rss.map((value) => Math.round(value)),
    };
    assert.ok(boundedTotals.refused > 0, 'the queue filled up');
    assert.equal(boundedTotals.queued, boundedTotals.delivered + boundedTotals.failedDelivery);
    assert.equal(boundedRewritten, 0, 'the topic holds exactly what was delivered: no retried batch twice');
    assert.equal(boundedTicks.duplicates, 0, 'no tick value twice');
    assert.ok(
      boundedTicks.missing > 0 && boundedTicks.missing <= boundedTotals.refused,
      'refused ticks counted',
    );
    assert.ok(refusedLogLines >= 1 && refusedLogLines <= OUTAGE_MS / 10_000 + 2, 'logged once per 10 s');
    assert.ok(rssGrowth < 40, `forwarder memory flat while the queue is full (${rssGrowth.toFixed(1)} MiB)`);
    console.log(`kafka outage figures: ${JSON.stringify(report)}`);
  });
});
