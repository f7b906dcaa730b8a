/**
 * Restart safety (docs/reliability.md, "Forwarder killed"): a forwarder killed with SIGKILL while it forwards
 * is started again and restores its stream set from the storage topic, skipping junk and partial writes that
 * came after the last good save, and forwarding resumes. (SIGTERM under load: test/integration/launcher.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwarded, waitForForwarded, waitForStatus, type StatusStream } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { produceMessages } from '../../support/kafka.js';
import { Protocol, serialiseFc00, UpdateType, type Fc00Stream } from '../../../src/schemas/index.js';

const world = ForwarderWorld.setUp({ extraTopics: ['pva'] });

const streamKey = (s: StatusStream): string =>
  `${s.channel_name} ${s.protocol} ${s.output_topic} ${s.schema}`;

describe('forwarder: killed with SIGKILL while forwarding, started again', { timeout: 120_000 }, () => {
  it('restores the stored stream set past junk on the storage topic and forwards again', async () => {
    const pv = (record: string): string => world.ioc.pv(record);
    const first = await world.startForwarder(world.standardArguments());
    const stream = (record: string, protocol: Protocol, topic: string, schema = 'f144'): Fc00Stream => ({
      channel: pv(record),
      schema,
      topic,
      protocol,
      periodic: 0,
    });
    const kept = [
      stream('tick', Protocol.CA, world.topics.data),
      stream('counter', Protocol.PVA, world.extraTopic('pva')),
      stream('mbbi', Protocol.CA, world.topics.data, 'f142'),
    ];
    const removed = stream('counter', Protocol.CA, world.topics.data);
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams: [...kept, removed] }));
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.REMOVE, streams: [removed] }));
    await world.reader.waitFor(world.topics.storage, (messages) => messages.length >= 2, 20_000, 'two saves');
    await waitForForwarded(world.reader, world.topics.data, 'f144', pv('tick'), (m) => m.length >= 10);
    const statusBefore = await waitForStatus(world, 0, (s) => s.length === kept.length, 'the kept streams');

    assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
    const stoppedAtNs = BigInt(Date.now()) * 1_000_000n;
    // What a crash of another writer, or a stray producer, may leave after the last good save.
    const goodSave = world.reader.of(world.topics.storage).at(-1)!.payload;
    const junk = [
      Buffer.from('not a flatbuffer'),
      goodSave.subarray(0, Math.floor(goodSave.length / 2)),
      Buffer.from(serialiseFc00({ configChange: UpdateType.REMOVE, streams: [kept[0]!] })),
      Buffer.alloc(0),
    ];
    await produceMessages(
      world.kafkaConfig,
      world.topics.storage,
      junk.map((value) => ({ value })),
    );

    const statusSince = world.reader.of(world.topics.status).length;
    const second = await world.startForwarder(world.standardArguments());
    await second.waitForOutput(/Restored 3 streams from storage topic/);
    assert.equal(
      (second.output.match(/Skipping message at offset \d+ of storage topic/g) ?? []).length,
      junk.length,
      'each junk message skipped with a warning',
    );
    const statusAfter = await waitForStatus(
      world,
      statusSince,
      (s) => s.length === kept.length && s.every((entry) => entry.connection === 'connected'),
      'the restored streams connected',
    );
    assert.deepEqual(statusAfter.map(streamKey).sort(), statusBefore.map(streamKey).sort());
    for (const [record, topic, schema] of [
      ['tick', world.topics.data, 'f144'],
      ['counter', world.extraTopic('pva'), 'f144'],
      ['mbbi', world.topics.data, 'f142'],
    ] as const) {
      await waitForForwarded(
        world.reader,
        topic,
        schema,
        pv(record),
        (messages) => messages.some((m) => m.message.timestampNs > stoppedAtNs),
        { what: `${record} forwarded again`, timeoutMs: 20_000 },
      );
    }
    const removedAfter = forwarded(world.reader, world.topics.data, 'f144', pv('counter')).filter(
      (m) => m.message.timestampNs > stoppedAtNs,
    );
    assert.equal(removedAfter.length, 0, 'the removed stream stays removed');
  });
});
