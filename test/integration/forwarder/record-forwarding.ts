/**
 * Every record of the test IOC's database forwarded by forwarder-launch as f144 and as f142 over one protocol,
 * checked in Kafka: the value union member each protocol gives (docs/forwarding.md, "Values per protocol"), the values the
 * database defines or the test wrote, strings only on f142 (while al00 and ep01 of the f144 stream still flow),
 * exact EPICS timestamps in ns, Kafka time = EPICS time in ms, key = PV name; and the same messages decoded by
 * the Python reference deserialisers. Run by records-ca.test.ts and records-pva.test.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { caPut } from '../../support/ca-recorder.js';
import {
  epicsTimestampsNs,
  forwarded,
  memberName,
  plainValue,
  waitForStatus,
} from '../../support/forwarded.js';
import type { ForwarderProcess } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { decodeWithReference } from '../../support/reference-decode.js';
import type { ReadMessage } from '../../support/topic-reader.js';
import {
  ConnectionInfo,
  F142AlarmSeverity,
  F142AlarmStatus,
  Protocol,
  serialiseFc00,
  UpdateType,
} from '../../../src/schemas/index.js';

type ProtocolName = 'ca' | 'pva';

/** What the value messages of a record look like over one protocol. */
interface Expected {
  /** Union member(s) the value may arrive as; [] when no value message may arrive. */
  readonly members: readonly string[];
  /** The exact value, when the database or the test fixes it. */
  readonly value?: unknown;
}

interface RecordCase {
  readonly record: string;
  readonly ca: Expected;
  readonly pva: Expected;
  /** Plausibility check for values that change by themselves. */
  readonly check?: (value: unknown) => boolean;
  /** Written (through CA, to `record` or `writeTo`) after subscribing; the value then expected. */
  readonly write?: unknown;
  readonly writeTo?: string;
  /** A string PV: f144 must refuse it. */
  readonly string?: boolean;
  /** f142 alarm status and severity the update must carry. */
  readonly alarm?: readonly [F142AlarmStatus, F142AlarmSeverity];
}

const both = (members: string | readonly string[], value?: unknown): { ca: Expected; pva: Expected } => {
  const expected: Expected = { members: typeof members === 'string' ? [members] : members, value };
  return { ca: expected, pva: expected };
};
const per = (ca: [string, unknown?], pva: [string, unknown?]): { ca: Expected; pva: Expected } => ({
  ca: { members: [ca[0]], value: ca[1] },
  pva: { members: [pva[0]], value: pva[1] },
});

const isInteger = (value: unknown): boolean => Number.isInteger(value);
const NO_ALARM = [F142AlarmStatus.NO_ALARM, F142AlarmSeverity.NO_ALARM] as const;
const BIG_RAMP = Array.from({ length: 100_000 }, (_, i) => i * 0.5);

export const RECORDS: readonly RecordCase[] = [
  { record: 'counter', ...both('Double'), check: (v) => isInteger(v) && (v as number) < 1000 },
  { record: 'tick', ...both('Double'), check: isInteger },
  { record: 'sine', ...both('Double'), check: (v) => Math.abs(v as number) <= 10 },
  { record: 'ai', ...both('Double'), check: (v) => Math.abs(v as number) <= 10 },
  { record: 'bit', ...both('Double'), check: (v) => v === 0 || v === 1 },
  // Enums: UShort over CA, Long over PVA.
  { record: 'bi', ...per(['UShort'], ['Long']), check: (v) => v === 0 || v === 1 },
  { record: 'state', ...both('Double'), check: (v) => [0, 1, 2, 3].includes(v as number) },
  { record: 'mbbi', ...per(['UShort'], ['Long']), check: (v) => [0, 1, 2, 3].includes(v as number) },
  { record: 'longin', ...both('Int'), check: isInteger },
  // INT64: CA has no 64-bit type.
  { record: 'int64in', ...per(['Double'], ['Long']), check: isInteger },
  { record: 'stringin', ...both('String'), check: (v) => /^\d/.test(v as string), string: true },
  // Grows one sample per update: a scalar while it holds one element.
  { record: 'hist', ...both(['ArrayDouble', 'Double']) },
  { record: 'ao', ...both('Double', 1.5), alarm: NO_ALARM },
  // A 1-element array is sent as the scalar member.
  { record: 'wf', ...both('Double', 2.5), write: [2.5], alarm: NO_ALARM },
  { record: 'bigwf', ...both('ArrayDouble', BIG_RAMP), write: BIG_RAMP },
  // CHAR is unsigned over CA, signed (as QSRV serves it) over PVA.
  {
    record: 'chars',
    ...per(['ArrayUByte', [104, 105, 33]], ['ArrayByte', [104, 105, 33]]),
    write: [104, 105, 33],
  },
  { record: 'chopper', ...both('ArrayInt', [1, 2, 3]), write: [1, 2, 3] },
  // Never processed: its EPICS timestamp is the EPICS epoch, which the timestamp filter refuses.
  { record: 'never', ...both([]) },
  { record: 'wf:char', ...per(['ArrayUByte', [1, 2, 3, 4, 5]], ['ArrayByte', [1, 2, 3, 4, 5]]) },
  { record: 'wf:uchar', ...both('ArrayUByte', [1, 2, 3, 4, 255]) },
  { record: 'wf:short', ...both('ArrayShort', [-2, -1, 0, 1, 32767]) },
  { record: 'wf:ushort', ...per(['ArrayInt', [1, 2, 3, 4, 65535]], ['ArrayUShort', [1, 2, 3, 4, 65535]]) },
  { record: 'wf:long', ...both('ArrayInt', [-100000, -1, 0, 1, 100000]) },
  {
    record: 'wf:ulong',
    ...per(['ArrayDouble', [1, 2, 3, 4, 4e9]], ['ArrayUInt', [1, 2, 3, 4, 4e9]]),
  },
  {
    record: 'wf:int64',
    ...per(['ArrayDouble', [-5, -1, 0, 1, 5e9]], ['ArrayLong', [-5, -1, 0, 1, 5e9]]),
  },
  {
    record: 'wf:uint64',
    ...per(['ArrayDouble', [1, 2, 3, 4, 5e9]], ['ArrayULong', [1, 2, 3, 4, 5e9]]),
  },
  { record: 'wf:float', ...both('ArrayFloat', [0.5, 1.5, 2.5, 3.5, 4.5]) },
  { record: 'wf:double', ...both('ArrayDouble', [0.25, 1.25, 2.25, 3.25, 4.25]), alarm: NO_ALARM },
  { record: 'wf:string', ...both('ArrayString', ['a', 'bb', 'ccc', 'dddd', 'eeeee']), string: true },
  // QSRV serves an ENUM waveform as an NTEnum (index 0, no choices).
  { record: 'wf:enum', ...per(['ArrayUShort', [0, 1, 2, 1, 0]], ['Long', 0]) },
  { record: 'aai:int64', ...per(['ArrayDouble', [10, 20, 30, 40, 50]], ['ArrayLong', [10, 20, 30, 40, 50]]) },
  { record: 'SIMPLE:DOUBLE', ...both('Double', 12.5), write: [12.5], alarm: NO_ALARM },
  {
    record: 'SIMPLE:DOUBLE2',
    ...both('Double', 21),
    write: [21],
    alarm: [F142AlarmStatus.HIHI, F142AlarmSeverity.MAJOR],
  },
  {
    record: 'SIMPLE:DOUBLE3',
    ...both('Double', 7),
    write: [7],
    alarm: [F142AlarmStatus.LOW, F142AlarmSeverity.MINOR],
  },
  { record: 'SIMPLE:STR', ...both('String', 'test'), string: true, alarm: NO_ALARM },
  { record: 'SIMPLE:BOOL', ...per(['UShort', 0], ['Long', 0]) },
  { record: 'SIMPLE:ENUM', ...per(['UShort', 0], ['Long', 0]) },
  { record: 'SIMPLE:LONG', ...both('Int', 0), alarm: NO_ALARM },
  // An event record's VAL is its event name; processing it gives it a timestamp.
  { record: 'SIMPLE:USHORT', ...both('String', ''), string: true, write: [1], writeTo: 'SIMPLE:USHORT.PROC' },
];

/** Records whose timestamp stays what the IOC gave them at start (processed once), to compare exactly. */
const STATIC_RECORDS = ['ao', 'wf:char', 'wf:int64', 'wf:double', 'wf:string', 'aai:int64', 'SIMPLE:STR'];

export function describeRecordForwarding(protocol: ProtocolName): void {
  const world = ForwarderWorld.setUp({ extraTopics: ['f142'] });
  const fc00Protocol = protocol === 'ca' ? Protocol.CA : Protocol.PVA;
  const label = protocol.toUpperCase();
  const f144Topic = (): string => world.topics.data;
  const f142Topic = (): string => world.extraTopic('f142');
  const pv = (record: string): string => world.ioc.pv(record);
  const expectedOf = (c: RecordCase): Expected => c[protocol];

  /** A value message (f144 or f142) that shows what the record's case expects. */
  const shows = (c: RecordCase, value: Parameters<typeof memberName>[0]): boolean => {
    const expected = expectedOf(c);
    const plain = plainValue(value);
    if (!expected.members.includes(memberName(value))) return false;
    if (expected.value !== undefined) return JSON.stringify(plain) === JSON.stringify(expected.value);
    return c.check?.(plain) ?? true;
  };

  describe(`forwarder: every test IOC record over ${label} as f144 and f142`, { timeout: 120_000 }, () => {
    let forwarder: ForwarderProcess;

    before(async () => {
      forwarder = await world.startForwarder(world.standardArguments());
      const since = world.reader.of(world.topics.status).length;
      const streams = RECORDS.flatMap((c) => [
        { channel: pv(c.record), schema: 'f144', topic: f144Topic(), protocol: fc00Protocol, periodic: 0 },
        { channel: pv(c.record), schema: 'f142', topic: f142Topic(), protocol: fc00Protocol, periodic: 0 },
      ]);
      await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
      await waitForStatus(
        world,
        since,
        (s) => s.filter((entry) => entry.connection === 'connected').length === streams.length,
        'every stream connected',
      );
      // The never-processed records' first updates are refused (EPICS epoch); writes give them fresh ones.
      await caPut(
        world.ioc.clientEnv,
        RECORDS.filter((c) => c.write !== undefined).map((c) => [pv(c.writeTo ?? c.record), c.write]),
        0.05,
      );
    });

    it("sends every numeric record as f144 with the protocol's union member and the defined values", async () => {
      const numeric = RECORDS.filter((c) => !c.string && expectedOf(c).members.length > 0);
      await world.reader.waitFor(
        f144Topic(),
        () =>
          numeric.every((c) =>
            forwarded(world.reader, f144Topic(), 'f144', pv(c.record)).some((m) => shows(c, m.message.value)),
          ),
        30_000,
        'an f144 message with the expected value for every numeric record',
      );
      for (const c of numeric) {
        const messages = forwarded(world.reader, f144Topic(), 'f144', pv(c.record));
        // Every message of the record (not just one) has an allowed member.
        for (const { message } of messages) {
          assert.ok(
            expectedOf(c).members.includes(memberName(message.value)),
            `${c.record}: member ${memberName(message.value)}, expected ${expectedOf(c).members.join('|')}`,
          );
          assert.equal(message.sourceName, pv(c.record));
        }
      }
    });

    it('sends every record as f142, strings included, with the alarm of the update', async () => {
      const withValues = RECORDS.filter((c) => expectedOf(c).members.length > 0);
      await world.reader.waitFor(
        f142Topic(),
        () =>
          withValues.every((c) =>
            forwarded(world.reader, f142Topic(), 'f142', pv(c.record)).some((m) => shows(c, m.message.value)),
          ),
        30_000,
        'an f142 message with the expected value for every record',
      );
      for (const c of withValues) {
        const match = forwarded(world.reader, f142Topic(), 'f142', pv(c.record)).find((m) =>
          shows(c, m.message.value),
        );
        assert.ok(match, c.record);
        if (c.alarm) {
          assert.deepEqual(
            [match.message.alarmStatus, match.message.alarmSeverity],
            c.alarm,
            `${c.record}: f142 alarm status and severity`,
          );
        }
      }
      // f142 streams send no al00.
      assert.deepEqual(forwarded(world.reader, f142Topic(), 'al00'), []);
    });

    it('refuses strings on f144, while al00 and ep01 of those streams still flow', async () => {
      const strings = RECORDS.filter((c) => c.string);
      assert.ok(strings.length >= 3);
      await world.reader.waitFor(
        f144Topic(),
        () =>
          strings.every(
            (c) =>
              forwarded(world.reader, f144Topic(), 'al00', pv(c.record)).length > 0 &&
              forwarded(world.reader, f144Topic(), 'ep01', pv(c.record)).length > 0,
          ),
        20_000,
        'al00 and ep01 of every string PV',
      );
      for (const c of strings) {
        assert.match(
          forwarder.output,
          new RegExp(`error.*${c.record}.*schema='f144'.*f144 cannot carry string values`),
          `${c.record}: a logged rejection`,
        );
        assert.deepEqual(forwarded(world.reader, f144Topic(), 'f144', pv(c.record)), [], c.record);
        const [connected] = forwarded(world.reader, f144Topic(), 'ep01', pv(c.record));
        assert.equal(connected?.message.status, ConnectionInfo.CONNECTED, c.record);
      }
    });

    it('sends only CONNECTED for the never-processed record (its EPICS-epoch updates are refused)', async () => {
      const never = pv('never');
      for (const topic of [f144Topic(), f142Topic()]) {
        const keyed = world.reader.of(topic).filter((m) => m.key === never);
        assert.deepEqual(
          keyed.map((m) => m.decoded?.schema),
          ['ep01'],
          `messages of ${never} on ${topic}`,
        );
      }
    });

    it('carries exact EPICS timestamps in ns, the EPICS time in ms as Kafka time and the PV name as key', async () => {
      const stamps = await epicsTimestampsNs(world.ioc.clientEnv, STATIC_RECORDS.map(pv));
      for (const record of STATIC_RECORDS) {
        const [first] = forwarded(world.reader, f142Topic(), 'f142', pv(record));
        assert.ok(first, record);
        assert.equal(first.message.timestampNs, stamps.get(pv(record)), `${record}: EPICS timestamp in ns`);
      }
      const nowMs = Date.now();
      const checked = new Set<string>();
      for (const topic of [f144Topic(), f142Topic()]) {
        for (const read of world.reader.of(topic)) {
          const decoded = read.decoded;
          assert.ok(decoded, `undecodable message on ${topic}`);
          const message = decoded.message as { sourceName: string; timestampNs: bigint };
          assert.equal(read.key, message.sourceName, `key of a ${decoded.schema} message`);
          assert.equal(
            BigInt(read.timestampMs),
            message.timestampNs / 1_000_000n,
            `${decoded.schema} of ${read.key}: Kafka time is the message time in ms`,
          );
          const ageMs = nowMs - read.timestampMs;
          assert.ok(ageMs >= 0 && ageMs < 600_000, `${read.key}: ${ageMs} ms old`);
          checked.add(decoded.schema);
        }
      }
      assert.deepEqual([...checked].sort(), ['al00', 'ep01', 'f142', 'f144']);
    });

    it('sends successive arrays of the same and of changing length with their own values and times', async () => {
      const writes = [[1, 2, 3], [4, 5, 6], [-7.5, 8, 9e300], [1], [1, 2, 3, 4], [0.5, 0.25, 0.125, 0]];
      const marks = [f144Topic(), f142Topic()].map((topic) => world.reader.of(topic).length);
      await caPut(
        world.ioc.clientEnv,
        writes.map((values) => [pv('wf'), values]),
        0.05,
      );
      const schemas = [
        [f144Topic(), 'f144'],
        [f142Topic(), 'f142'],
      ] as const;
      for (const [i, [topic, schema]] of schemas.entries()) {
        await world.reader.waitFor(
          topic,
          () => forwarded(world.reader, topic, schema, pv('wf'), marks[i]).length >= writes.length,
          20_000,
          `every write to wf as ${schema}`,
        );
        const messages = forwarded(world.reader, topic, schema, pv('wf'), marks[i]);
        assert.deepEqual(
          messages.map((m) => plainValue(m.message.value)),
          writes.map((values) => (values.length === 1 ? values[0] : values)),
          `${schema} values`,
        );
        messages.slice(1).forEach((m, j) => {
          assert.ok(m.message.timestampNs > messages[j]!.message.timestampNs, `${schema}: times increase`);
        });
        const reference = await decodeWithReference(messages.map((m) => m.read.payload));
        assert.deepEqual(
          reference.map((r) => {
            const m = r['message'] as Record<string, unknown>;
            return [m['value'], m['timestamp_unix_ns']];
          }),
          messages.map((m) => [plainValue(m.message.value), Number(m.message.timestampNs)]),
          `${schema} as the reference reads it`,
        );
      }
    });

    it('sends messages the Python reference deserialisers read as we do', async () => {
      const pick = (
        topic: string,
        schema: 'f144' | 'f142' | 'al00' | 'ep01',
        record: string,
      ): ReadMessage => {
        const found = world.reader
          .of(topic)
          .find((m) => m.key === pv(record) && m.decoded?.schema === schema);
        assert.ok(found, `${schema} of ${record}`);
        return found;
      };
      const samples = [
        pick(f144Topic(), 'f144', 'wf:int64'),
        pick(f144Topic(), 'f144', 'mbbi'),
        pick(f142Topic(), 'f142', 'SIMPLE:DOUBLE2'),
        pick(f142Topic(), 'f142', 'wf:char'),
        pick(f142Topic(), 'f142', 'SIMPLE:STR'),
        pick(f142Topic(), 'f142', 'wf:string'),
        pick(f144Topic(), 'al00', 'SIMPLE:DOUBLE2'),
        pick(f144Topic(), 'ep01', 'ao'),
      ];
      const reference = await decodeWithReference(samples.map((m) => m.payload));
      // Timestamps as numbers: JSON carries the reference's exact integers, which parse to the nearest double.
      const ours = samples.map((read) => {
        const decoded = read.decoded!;
        switch (decoded.schema) {
          case 'f144':
          case 'f142':
            return [read.key, plainValue(decoded.message.value), Number(decoded.message.timestampNs)];
          case 'al00':
            return [read.key, decoded.message.message, Number(decoded.message.timestampNs)];
          case 'ep01':
            return [read.key, ConnectionInfo[decoded.message.status], Number(decoded.message.timestampNs)];
          default:
            return [];
        }
      });
      const theirs = reference.map((r) => {
        const m = r['message'] as Record<string, unknown> | undefined;
        assert.ok(m, `the reference could not decode a message: ${JSON.stringify(r)}`);
        switch (r['schema']) {
          case 'f144':
          case 'f142':
            return [m['source_name'], m['value'], m['timestamp_unix_ns']];
          case 'al00':
            return [m['source'], m['message'], m['timestamp_ns']];
          case 'ep01':
            return [m['source_name'], m['status'], m['timestamp']];
          default:
            return [];
        }
      });
      assert.deepEqual(theirs, ours);
    });
  });
}
