/**
 * SIGTERM during steady forwarding loses nothing. "Produced before the signal" is taken as everything the
 * forwarder handed to its Kafka producer before it stopped (its subscriptions end first, so that includes every
 * update received before the signal): the forwarder logs that count at shutdown, and exactly that many messages
 * must be on the data topic. Batches are held back for a second (linger.ms), so at any moment about a second
 * of updates is still in the producer's queue: a shutdown that did not flush would lose them and fail the check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { addFakeStreams, onlyOptionVariables } from './launch.js';

const world = ForwarderWorld.setUp({ ioc: false });

/** 20 fake PVs every 10 ms: about 2,000 updates a second. */
const PV_COUNT = 20;
const FAKE_PERIOD_MS = 10;
const LINGER_MS = 1000;

const TOTALS =
  /Output producer totals: (\d+) messages queued, (\d+) delivered, (\d+) failed delivery, (\d+) refused before queueing/;

describe('SIGTERM during steady forwarding', () => {
  it('exits 0 with every message the forwarder produced in Kafka', async () => {
    const forwarder = await world.startForwarder(
      world.standardArguments([
        '--fake-pv-period',
        String(FAKE_PERIOD_MS),
        '--kafka-config',
        `linger.ms=${LINGER_MS}`,
        '--verbosity',
        'Info',
      ]),
      onlyOptionVariables(),
    );
    const names = Array.from({ length: PV_COUNT }, (_, index) => `FAKE:SHUTDOWN:${index}`);
    await world.sendCommand(addFakeStreams(world, names));
    // Steady: several linger periods of updates from every PV have arrived.
    await world.reader.waitFor(
      world.topics.data,
      (messages) =>
        new Set(messages.map((message) => message.key)).size === PV_COUNT && messages.length >= 4000,
      30_000,
      'steady forwarding of every fake PV',
    );
    const { code, signal } = await forwarder.stop('SIGTERM');
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, forwarder.output);

    const totals = TOTALS.exec(forwarder.output);
    assert.ok(totals, `no producer totals in the log:\n${forwarder.output}`);
    const [queued, delivered, failed, refused] = totals.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    assert.equal(failed, 0, 'failed deliveries');
    assert.equal(refused, 0, 'messages refused before queueing');
    assert.ok(delivered <= queued);
    await world.reader
      .waitFor(world.topics.data, (messages) => messages.length >= queued, 20_000, `${queued} messages`)
      .catch(() => undefined);
    // Anything beyond the count would be a duplicate: give strays a moment to show up.
    await sleep(1000);
    assert.equal(world.reader.of(world.topics.data).length, queued, 'messages on the data topic');
  });
});
