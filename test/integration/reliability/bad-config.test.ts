/**
 * Bad input on the config topic (docs/reliability.md, "Junk on the config topic"): thousands of generated
 * messages in one batch (random and truncated bytes, wrong file identifiers, unknown commands, protocols and
 * schemas, empty, over-long and malformed PV names and topics, huge stream lists), each rejected with a log line
 * and counted (/status.json `commands`), while a valid stream keeps flowing and the stream set stays as it was.
 * (Junk on the storage topic: restart.test.ts; config files and environment values: test/unit/cli.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import {
  Protocol,
  SCHEMAS_OF_PROTOCOL,
  serialiseFc00,
  UpdateType,
  type Fc00Stream,
} from '../../../src/schemas/index.js';
import { forwarded, waitForForwarded } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { produceMessages } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';

const world = ForwarderWorld.setUp({ ioc: false });

const CASES = 3_000;
const HUGE_LIST = 5_000;
const SEED = 20_261_124;

const KNOWN_SCHEMAS = new Set(Object.values(SCHEMAS_OF_PROTOCOL).flatMap((schemas) => [...schemas]));

/** A stream with at least one defect that makes it unusable in an ADD or REPLACE. */
const badAddStream: fc.Arbitrary<Fc00Stream> = fc
  .record({
    defect: fc.constantFrom('protocol', 'empty-name', 'long-name', 'space-name', 'schema', 'topic'),
    channel: fc.stringMatching(/^[A-Za-z0-9:_-]{1,40}$/),
    protocol: fc.constantFrom(Protocol.CA, Protocol.PVA, Protocol.FAKE),
    unknownProtocol: fc.integer({ min: 3, max: 127 }),
    badSchema: fc.string({ maxLength: 12 }).filter((schema) => !KNOWN_SCHEMAS.has(schema)),
    badTopic: fc.oneof(
      fc.constant(''),
      fc.constant('a/b'),
      fc.constant('x'.repeat(250)),
      fc.constant('tópico'),
    ),
    spaced: fc.constantFrom(' PV', 'P V', 'PV\n', 'PV\u0000', '\t'),
  })
  .map(({ defect, channel, protocol, unknownProtocol, badSchema, badTopic, spaced }) => ({
    channel:
      defect === 'empty-name'
        ? ''
        : defect === 'long-name'
          ? channel.padEnd(1025, 'x')
          : defect === 'space-name'
            ? channel + spaced
            : channel,
    schema: defect === 'schema' ? badSchema : 'f144',
    topic: defect === 'topic' ? badTopic : 'topic',
    protocol: defect === 'protocol' ? (unknownProtocol as Protocol) : protocol,
    periodic: 0,
  }));

/** A REMOVE request that can match nothing: unknown protocol, unknown schema, or every field empty. */
const badRemoveStream: fc.Arbitrary<Fc00Stream> = fc.oneof(
  fc.integer({ min: 3, max: 127 }).map((protocol) => ({
    channel: 'PV*',
    schema: '',
    topic: '',
    protocol: protocol as Protocol,
    periodic: 0,
  })),
  fc
    .string({ maxLength: 12 })
    .filter((schema) => schema !== '' && !KNOWN_SCHEMAS.has(schema))
    .map((schema) => ({ channel: 'PV*', schema, topic: '', protocol: Protocol.CA, periodic: 0 })),
  fc.constant({ channel: '', schema: '', topic: '', protocol: Protocol.CA, periodic: 0 }),
);

interface Case {
  readonly kind: string;
  readonly payload: Buffer;
  /** Streams the forwarder should report as skipped. */
  readonly skipped: number;
}

const validAdd = (channel: string): Uint8Array =>
  serialiseFc00({
    configChange: UpdateType.ADD,
    streams: [{ channel, schema: 'f144', topic: 'topic', protocol: Protocol.FAKE, periodic: 0 }],
  });

const caseArbitrary: fc.Arbitrary<Case> = fc.oneof(
  fc
    .uint8Array({ maxLength: 300 })
    .map((bytes) => ({ kind: 'random bytes', payload: Buffer.from(bytes), skipped: 0 })),
  fc.tuple(fc.nat(), fc.stringMatching(/^[a-z]{1,30}$/)).map(([cut, name]) => {
    const whole = validAdd(`truncated:${name}`);
    // Cut into the content: the last string's NUL terminator and padding are not content (a reader needs
    // neither, as the reference's), so a cut that drops only them leaves a complete message.
    const trailingZeros = whole.length - (whole.findLastIndex((byte) => byte !== 0) + 1);
    return {
      kind: 'truncated',
      payload: Buffer.from(whole.subarray(0, cut % (whole.length - trailingZeros))),
      skipped: 0,
    };
  }),
  fc
    .stringMatching(/^[ -~]{4}$/)
    .filter((identifier) => identifier !== 'fc00' && identifier !== 'rf5k')
    .map((identifier) => {
      const payload = Buffer.from(validAdd('wrong-identifier'));
      payload.write(identifier, 4, 'latin1');
      return { kind: 'wrong identifier', payload, skipped: 0 };
    }),
  fc.tuple(fc.integer({ min: 4, max: 255 }), badAddStream).map(([change, stream]) => ({
    kind: 'unknown command',
    payload: Buffer.from(serialiseFc00({ configChange: change as UpdateType, streams: [stream] })),
    skipped: 0,
  })),
  fc
    .tuple(fc.constantFrom(UpdateType.ADD, UpdateType.REPLACE), fc.array(badAddStream, { maxLength: 6 }))
    .map(([configChange, streams]) => ({
      kind: 'bad streams',
      payload: Buffer.from(serialiseFc00({ configChange, streams })),
      skipped: streams.length,
    })),
  fc.array(badRemoveStream, { maxLength: 6 }).map((streams) => ({
    kind: 'bad remove',
    payload: Buffer.from(serialiseFc00({ configChange: UpdateType.REMOVE, streams })),
    skipped: streams.length,
  })),
);

interface StatusJson {
  commands: { accepted: number; rejected: number; skippedStreams: number };
  streams: Array<{ pv: string; updates: number; state: string }>;
}

describe('forwarder: junk on the config topic', { timeout: 180_000 }, () => {
  it('rejects and counts every bad message and keeps forwarding the valid stream', async () => {
    const port = await freePort();
    const forwarder = await world.startForwarder(
      world.standardArguments(['--http-address', `127.0.0.1:${port}`, '--fake-pv-period', '100']),
    );
    const status = async (): Promise<StatusJson> =>
      (await (await fetch(`http://127.0.0.1:${port}/status.json`)).json()) as StatusJson;
    const alive: Fc00Stream = {
      channel: 'alive',
      schema: 'f144',
      topic: world.topics.data,
      protocol: Protocol.FAKE,
      periodic: 0,
    };
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams: [alive] }));
    await waitForForwarded(world.reader, world.topics.data, 'f144', 'alive', (m) => m.length >= 5);

    const cases = fc.sample(caseArbitrary, { numRuns: CASES, seed: SEED });
    // Huge lists: every stream well formed but for an unknown protocol number.
    const hugeList = Array.from({ length: HUGE_LIST }, (_, i) => ({
      channel: `huge:${i}`,
      schema: 'f144',
      topic: 'topic',
      protocol: 99 as Protocol,
      periodic: 0,
    }));
    for (const [kind, configChange] of [
      ['huge add', UpdateType.ADD],
      ['huge replace', UpdateType.REPLACE],
      ['huge remove', UpdateType.REMOVE],
    ] as const) {
      cases.push({
        kind,
        payload: Buffer.from(serialiseFc00({ configChange, streams: hugeList })),
        skipped: HUGE_LIST,
      });
    }
    const before = await status();
    const aliveBefore = forwarded(world.reader, world.topics.data, 'f144', 'alive').length;
    const sentAt = Date.now();
    for (let i = 0; i < cases.length; i += 500) {
      await produceMessages(
        world.kafkaConfig,
        world.topics.config,
        cases.slice(i, i + 500).map(({ payload }) => ({ value: payload })),
      );
    }
    const expectedSkipped = cases.reduce((sum, c) => sum + c.skipped, 0);
    let after = await status();
    const deadline = Date.now() + 60_000;
    while (after.commands.rejected - before.commands.rejected < cases.length && Date.now() < deadline) {
      await sleep(250);
      after = await status();
    }
    const processedMs = Date.now() - sentAt;
    // The counters are read over HTTP; the log lines come through a pipe, which may lag on a loaded machine.
    const ignoredLines = (): number => (forwarder.output.match(/Ignoring config message: /g) ?? []).length;
    while (ignoredLines() < cases.length && Date.now() < deadline) await sleep(250);
    const kinds: Record<string, number> = {};
    for (const c of cases) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
    console.log(
      `bad config figures: ${JSON.stringify({ cases: cases.length, kinds, expectedSkipped, processedMs, before: before.commands, after: after.commands })}`,
    );
    assert.deepEqual(
      {
        accepted: after.commands.accepted - before.commands.accepted,
        rejected: after.commands.rejected - before.commands.rejected,
        skippedStreams: after.commands.skippedStreams - before.commands.skippedStreams,
      },
      { accepted: 0, rejected: cases.length, skippedStreams: expectedSkipped },
      'every message rejected and counted, every stream in them skipped',
    );
    assert.equal(ignoredLines(), cases.length, 'one log line per rejected message');
    assert.equal(
      (forwarder.output.match(/Skipping \d+ more invalid streams in config message \(not listed\)/g) ?? [])
        .length,
      3,
      'the huge lists summarised in the log, not listed stream by stream',
    );
    assert.deepEqual(
      after.streams.map((s) => [s.pv, s.state]),
      [['alive', 'connected']],
      'the stream set is unchanged',
    );
    await waitForForwarded(
      world.reader,
      world.topics.data,
      'f144',
      'alive',
      (m) => m.length >= aliveBefore + 10,
      { what: 'the valid stream still flowing' },
    );
    const seconds = forwarded(world.reader, world.topics.data, 'f144', 'alive').map((m) =>
      Number(m.message.timestampNs / 1_000_000_000n),
    );
    const longestGap = Math.max(...seconds.slice(1).map((s, i) => s - seconds[i]!));
    assert.ok(longestGap <= 2, `the valid stream never paused (longest gap ${longestGap} s)`);
    assert.equal(forwarder.child.exitCode, null, 'still running');
  });
});
