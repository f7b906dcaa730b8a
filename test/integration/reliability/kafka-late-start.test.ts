/**
 * A forwarder started while Kafka is down, as after a site-wide power cut when its host is back before the
 * Kafka cluster (docs/reliability.md): it waits, retrying, and once the broker is back restores its stored
 * streams, listens for commands and forwards. Topics are read only while quiet, by fresh readers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Protocol, serialiseFc00, UpdateType, type Fc00Stream } from '../../../src/schemas/index.js';
import { ReliabilityWorld } from './world.js';

const world = ReliabilityWorld.setUp();

describe('forwarder: started while Kafka is down', { timeout: 240_000 }, () => {
  it('waits for the broker, then restores its streams and forwards', async () => {
    const topics = await world.topics('config', 'status', 'storage', 'data');
    const counter: Fc00Stream = {
      channel: world.ioc.pv('counter'),
      schema: 'f144',
      topic: topics.data,
      protocol: Protocol.CA,
      periodic: 0,
    };
    const first = await world.startForwarder(topics);
    await world.send(topics.config, [serialiseFc00({ configChange: UpdateType.ADD, streams: [counter] })]);
    await first.waitForOutput(/Subscribed to/);
    await sleep(2_000);
    assert.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });
    assert.equal((await world.readAll(topics.storage)).length, 1, 'the stream set saved');

    await world.broker.stop();
    const second = world.launchForwarder(topics);
    await sleep(15_000);
    assert.equal(
      second.child.exitCode,
      null,
      `the forwarder gave up while Kafka was away:\n${second.output}`,
    );
    await world.broker.start();
    await second.waitForOutput(/Restored 1 streams from storage topic/, 60_000);
    await second.waitForOutput(/Listening for commands/, 30_000);
    const listeningAtNs = BigInt(Date.now()) * 1_000_000n;
    await sleep(5_000);
    assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
    const after = (await world.readAll(topics.data)).filter(
      (message) =>
        message.key === counter.channel &&
        message.decoded?.schema === 'f144' &&
        message.decoded.message.timestampNs > listeningAtNs,
    );
    assert.ok(after.length >= 3, `counter forwarded after the late start (${after.length} values)`);
  });
});
