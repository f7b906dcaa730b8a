/**
 * tdct end to end over CA and PVA: offsets written into the chopper record arrive as timestamps = the record's
 * EPICS time + offsets (exact ns), one message per non-empty update with a counter from 0, Kafka time = EPICS
 * time in ms; an empty array sends nothing; al00 flows alongside.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  forwarded,
  putAndReadTimestampsNs,
  waitForForwarded,
  waitForStatus,
} from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { decodeWithReference } from '../../support/reference-decode.js';
import { serialiseFc00, UpdateType } from '../../../src/schemas/index.js';

const world = ForwarderWorld.setUp({ extraTopics: ['pva'] });

const PROTOCOLS = world.caAndPva;

/** Offsets (ns) written in turn; the empty one must produce no tdct message. */
const WRITES = [[10, 20, 30], [-3, -2, -1], [5], [], [1_000_000_000, 2_000_000_000, -2_000_000_000]];

describe('forwarder: tdct from the chopper record', { timeout: 90_000 }, () => {
  const chopper = (): string => world.ioc.pv('chopper');
  let origins: bigint[] = [];

  before(async () => {
    await world.startForwarder(world.standardArguments());
    const since = world.reader.of(world.topics.status).length;
    const streams = PROTOCOLS.map(({ protocol, topic }) => ({
      channel: chopper(),
      schema: 'tdct',
      topic: topic(),
      protocol,
      periodic: 0,
    }));
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
    await waitForStatus(
      world,
      since,
      (s) => s.length === 2 && s.every((entry) => entry.connection === 'connected'),
      'both chopper streams connected',
    );
    origins = await putAndReadTimestampsNs(world.ioc.clientEnv, chopper(), WRITES);
  });

  it('sends the EPICS timestamp plus each offset, in ns, with a sequence counter', async () => {
    const nonEmpty = WRITES.map((offsets, i) => ({ offsets, origin: origins[i]! })).filter(
      (write) => write.offsets.length > 0,
    );
    for (const { name, topic } of PROTOCOLS) {
      const messages = await waitForForwarded(
        world.reader,
        topic(),
        'tdct',
        chopper(),
        (found) => found.length >= nonEmpty.length,
        { what: `every tdct message over ${name}` },
      );
      assert.deepEqual(
        messages.map((m) => [...m.message.timestampsNs]),
        nonEmpty.map(({ offsets, origin }) => offsets.map((offset) => origin + BigInt(offset))),
        `${name}: timestamps = EPICS time + offsets`,
      );
      assert.deepEqual(
        messages.map((m) => m.message.sequenceCounter ?? 0n),
        nonEmpty.map((_, i) => BigInt(i)),
        `${name}: sequence counter`,
      );
      assert.deepEqual(
        messages.map((m) => [m.read.key, m.read.timestampMs]),
        nonEmpty.map(({ origin }) => [chopper(), Number(origin / 1_000_000n)]),
        `${name}: key and Kafka time`,
      );
    }
  });

  it('sends nothing for the empty array, and al00 alongside', async () => {
    // Every write, the empty one included, processed the record (a new EPICS time each).
    origins.slice(1).forEach((origin, i) => assert.ok(origin > origins[i]!, `write ${i + 1} processed`));
    for (const { name, topic } of PROTOCOLS) {
      const tdct = forwarded(world.reader, topic(), 'tdct', chopper());
      assert.equal(tdct.length, WRITES.length - 1, `${name}: no message for the empty write`);
      const alarms = forwarded(world.reader, topic(), 'al00', chopper());
      // The never-processed record's UDF/INVALID update is refused (EPICS epoch); the first write clears it.
      assert.deepEqual(
        alarms.map((m) => [m.message.severity, m.message.timestampNs]),
        [[0, origins[0]]],
        `${name}: al00`,
      );
    }
  });

  it('sends messages the Python reference deserialiser reads as we do', async () => {
    const samples = PROTOCOLS.map(({ topic }) => forwarded(world.reader, topic(), 'tdct', chopper())[1]!);
    const reference = await decodeWithReference(samples.map((m) => m.read.payload));
    assert.deepEqual(
      reference.map((r) => {
        const m = r['message'] as Record<string, unknown>;
        return [m['name'], m['timestamps'], m['sequence_counter']];
      }),
      samples.map((m) => [chopper(), [...m.message.timestampsNs].map(Number), 1]),
    );
  });
});
