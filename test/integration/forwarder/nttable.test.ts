/**
 * nttable_se00 and nttable_senv end to end: NTTables served by a p4p server, forwarded over PVA as se00 and senv
 * (first row's time as packet and Kafka time, delta of the first two rows, per-row timestamps, a counter per
 * message, senv values rounded half to even), nothing for a table without rows, f144 refusing a table while its
 * al00 and ep01 still flow; the Python reference deserialisers read the same.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forwarded, waitForForwarded, waitForStatus } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { NtTableServer, type TableRow } from '../../support/nttable-server.js';
import { decodeWithReference } from '../../support/reference-decode.js';
import {
  ConnectionInfo,
  Location,
  Protocol,
  serialiseFc00,
  UpdateType,
  type Se00Message,
  type SenvMessage,
} from '../../../src/schemas/index.js';

const world = ForwarderWorld.setUp({ ioc: false, extraTopics: ['senv', 'f144'] });

const base = BigInt(Date.now()) * 1_000_000n + 123n;
/** Row sets posted in turn to `table`; the empty one must send nothing. */
const TABLE_POSTS: TableRow[][] = [
  [
    { timestamp: base, value: 1.5, name: 'a' },
    { timestamp: base + 1000n, value: 2.5, name: 'b' },
    { timestamp: base + 2000n, value: -3.5, name: 'c' },
  ],
  [{ timestamp: base + 5000n, value: 4.5, name: 'one row' }],
  [],
  [
    { timestamp: base + 9000n, value: 0.25, name: 'x' },
    { timestamp: base + 9250n, value: 1e6, name: 'y' },
  ],
];
const INT_ROWS: TableRow[] = [
  { timestamp: base + 100n, value: 7 },
  { timestamp: base + 600n, value: -8 },
];

/** The fields both schemas share, as plain data. */
function sampleFields(message: Se00Message | SenvMessage): unknown[] {
  return [
    message.sourceName,
    message.channel,
    message.packetTimestampNs,
    message.timeDeltaNs,
    message.timestampLocation,
    Array.from(message.values as ArrayLike<number | bigint>, Number),
    Array.from(message.timestampsNs ?? [], BigInt),
    message.messageCounter,
  ];
}

function expectedFields(
  pvName: string,
  rows: readonly TableRow[],
  counter: number,
  round: boolean,
): unknown[] {
  const first = rows[0]!.timestamp;
  return [
    pvName,
    0,
    first,
    Number((rows[1]?.timestamp ?? first) - first),
    Location.Middle,
    rows.map((row) => (round ? roundHalfToEven(row.value) : row.value)),
    rows.map((row) => row.timestamp),
    BigInt(counter),
  ];
}

function roundHalfToEven(value: number): number {
  return Math.abs(value % 1) === 0.5 ? 2 * Math.round(value / 2) : Math.round(value);
}

describe('forwarder: NTTables as se00 and senv over PVA', { timeout: 90_000 }, () => {
  let server: NtTableServer;
  const table = (): string => server.pv('table');
  const intTable = (): string => server.pv('inttable');

  before(async () => {
    server = await NtTableServer.start();
    await world.startForwarder(world.standardArguments(), server.clientEnv);
    const since = world.reader.of(world.topics.status).length;
    const stream = (channel: string, schema: string, topic: string) => ({
      channel,
      schema,
      topic,
      protocol: Protocol.PVA,
      periodic: 0,
    });
    const streams = [
      stream(table(), 'nttable_se00', world.topics.data),
      stream(table(), 'nttable_senv', world.extraTopic('senv')),
      stream(intTable(), 'nttable_se00', world.topics.data),
      stream(intTable(), 'nttable_senv', world.extraTopic('senv')),
      stream(table(), 'f144', world.extraTopic('f144')),
    ];
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
    await waitForStatus(
      world,
      since,
      (s) => s.length === streams.length && s.every((entry) => entry.connection === 'connected'),
      'every table stream connected',
    );
    for (const rows of TABLE_POSTS) await server.post('table', rows);
    await server.post('inttable', INT_ROWS);
  });

  after(async () => {
    await server?.stop();
  });

  it('sends se00 per non-empty table: first row time, delta, values, row timestamps, counter', async () => {
    const nonEmpty = TABLE_POSTS.filter((rows) => rows.length > 0);
    const messages = await waitForForwarded(
      world.reader,
      world.topics.data,
      'se00',
      table(),
      (found) => found.length >= nonEmpty.length,
    );
    assert.deepEqual(
      messages.map((m) => sampleFields(m.message)),
      nonEmpty.map((rows, i) => expectedFields(table(), rows, i, false)),
    );
    assert.ok(messages.every((m) => m.message.values instanceof Float64Array));
    assert.deepEqual(
      messages.map((m) => [m.read.key, m.read.timestampMs]),
      nonEmpty.map((rows) => [table(), Number(rows[0]!.timestamp / 1_000_000n)]),
      'key and Kafka time (first row, ms)',
    );
    const [ints] = await waitForForwarded(
      world.reader,
      world.topics.data,
      'se00',
      intTable(),
      (f) => f.length > 0,
    );
    assert.deepEqual(sampleFields(ints!.message), expectedFields(intTable(), INT_ROWS, 0, false));
    assert.ok(ints!.message.values instanceof Int32Array, 'an int32 column stays int32');
  });

  it('sends senv with values rounded half to even to integers', async () => {
    const nonEmpty = TABLE_POSTS.filter((rows) => rows.length > 0);
    const messages = await waitForForwarded(
      world.reader,
      world.extraTopic('senv'),
      'senv',
      table(),
      (found) => found.length >= nonEmpty.length,
    );
    assert.deepEqual(
      messages.map((m) => sampleFields(m.message)),
      nonEmpty.map((rows, i) => expectedFields(table(), rows, i, true)),
    );
    assert.deepEqual(
      Array.from(messages[0]!.message.values as BigInt64Array, Number),
      [2, 2, -4],
      '1.5, 2.5, -3.5 round half to even',
    );
    const [ints] = await waitForForwarded(
      world.reader,
      world.extraTopic('senv'),
      'senv',
      intTable(),
      (f) => f.length > 0,
    );
    assert.deepEqual(sampleFields(ints!.message), expectedFields(intTable(), INT_ROWS, 0, false));
  });

  it('sends al00 and ep01 for table streams, and refuses a table on f144 without stopping them', async () => {
    for (const topic of [world.topics.data, world.extraTopic('senv'), world.extraTopic('f144')]) {
      const connected = await waitForForwarded(world.reader, topic, 'ep01', table(), (f) => f.length > 0);
      assert.deepEqual(
        connected.map((m) => m.message.status),
        [ConnectionInfo.CONNECTED],
      );
      const alarms = await waitForForwarded(world.reader, topic, 'al00', table(), (f) => f.length > 0);
      assert.deepEqual(
        alarms.map((m) => [m.message.severity, m.message.message]),
        [[0, '']],
        'one al00: the alarm never changes',
      );
    }
    assert.deepEqual(forwarded(world.reader, world.extraTopic('f144'), 'f144'), []);
  });

  it('sends messages the Python reference deserialisers read as we do', async () => {
    const [se00] = forwarded(world.reader, world.topics.data, 'se00', table());
    const [senv] = forwarded(world.reader, world.extraTopic('senv'), 'senv', table());
    const [theirSe00, theirSenv] = await decodeWithReference([se00!.read.payload, senv!.read.payload]);
    const fields = (decoded: Record<string, unknown> | undefined): unknown[] => {
      const m = decoded?.['message'] as Record<string, unknown>;
      return [
        m['name'],
        m['channel'],
        m['sample_ts_delta'],
        m['ts_location'],
        m['message_counter'],
        m['values'],
      ];
    };
    const rows = TABLE_POSTS[0]!;
    assert.deepEqual(fields(theirSe00), [table(), 0, 1000, Location.Middle, 0, [1.5, 2.5, -3.5]]);
    assert.deepEqual(fields(theirSenv), [table(), 0, 1000, Location.Middle, 0, [2, 2, -4]]);
    const se00Message = theirSe00?.['message'] as Record<string, unknown>;
    assert.equal(se00Message['timestamp_unix_ns'], Number(rows[0]!.timestamp));
    assert.deepEqual(
      se00Message['value_ts'],
      rows.map((row) => Number(row.timestamp)),
    );
  });
});
