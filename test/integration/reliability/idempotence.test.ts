/**
 * The producers' idempotent delivery (docs/reliability.md, "Idempotent delivery"): on by default, turned off with
 * --kafka-config like any librdkafka property, a contradicting setting refused at start with librdkafka's reason,
 * and a producer that fails for good (librdkafka's fatal error) ends the forwarder loudly, exit code 1, after an
 * orderly stop, so that the service manager starts it again with new producers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import { ForwarderProcess } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { createTopics, uniqueTopic } from '../../support/kafka.js';

const world = ForwarderWorld.setUp({ ioc: false });

describe('forwarder: idempotent Kafka producers', { timeout: 120_000 }, () => {
  it('refuses acks=1 beside the default idempotence, with the reason, and takes it with idempotence off', async () => {
    const refused = ForwarderProcess.start(world.standardArguments(['--kafka-config', 'acks=1']));
    assert.equal((await refused.exit()).code, 2, refused.output);
    assert.match(refused.output, /`acks` must be set to `all` when `enable.idempotence` is true/);

    const plain = await world.startForwarder(
      world.standardArguments(['--kafka-config', 'acks=1', '--kafka-config', 'enable.idempotence=false']),
    );
    assert.deepEqual(await plain.stop('SIGTERM'), { code: 0, signal: null }, plain.output);
  });

  it('stops in order and exits 1 when the output producer fails for good', async () => {
    // A batch the broker refuses for good is a gap in the producer's sequence; with the gap-less guarantee asked
    // for, librdkafka makes that a fatal error: a real one, provoked on purpose.
    const tiny = uniqueTopic('tiny');
    await createTopics(world.kafkaConfig, [tiny], 1, { 'max.message.bytes': '64' });
    const forwarder = await world.startForwarder(
      world.standardArguments(['--kafka-config', 'enable.gapless.guarantee=true', '--verbosity', 'Info']),
    );
    await world.sendCommand(
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: [{ channel: 'fake:1', schema: 'f144', topic: tiny, protocol: Protocol.FAKE, periodic: 0 }],
      }),
    );
    const ended = await forwarder.exit(60_000);
    assert.deepEqual(ended, { code: 1, signal: null }, forwarder.output);
    assert.match(
      forwarder.output,
      /ERROR Fatal error: Kafka output producer failed for good: Local: Gap-less ordering .*Message size too large.*; stopping/,
    );
    // The orderly stop: subscriptions ended, the producers flushed and their totals logged.
    assert.match(forwarder.output, /Output producer totals: \d+ messages queued/);
    assert.match(forwarder.output, /Forwarder stopped/);
  });
});
