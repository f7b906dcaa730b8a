/**
 * Stream bookkeeping end to end: REMOVE with name and topic wildcards and exact schemas removes exactly the
 * matching streams while every other stream keeps forwarding, including other streams of the same PV (another
 * topic, another schema, another protocol); a second ADD with another periodic flag changes the stream instead
 * of adding a duplicate (docs/differences.md, "Streams and commands").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { caPut } from '../../support/ca-recorder.js';
import { forwarded, plainValue, waitForStatus, type StatusStream } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { ConnectionInfo, Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import type { Fc00Stream } from '../../../src/schemas/index.js';

const world = ForwarderWorld.setUp({ extraTopics: ['second', 'third', 'periodic'] });
const PERIOD_MS = 1000;

interface TestStream {
  readonly id: string;
  readonly record: string;
  readonly protocol: Protocol;
  readonly topic: () => string;
  readonly schema: 'f144' | 'f142';
}

const data = (): string => world.topics.data;
const second = (): string => world.extraTopic('second');
const third = (): string => world.extraTopic('third');

/** Each stream's value messages are told apart by (topic, PV, schema). */
const STREAMS: readonly TestStream[] = [
  { id: 'tick CA data f144', record: 'tick', protocol: Protocol.CA, topic: data, schema: 'f144' },
  { id: 'tick PVA second f144', record: 'tick', protocol: Protocol.PVA, topic: second, schema: 'f144' },
  { id: 'tick CA data f142', record: 'tick', protocol: Protocol.CA, topic: data, schema: 'f142' },
  { id: 'tick CA third f144', record: 'tick', protocol: Protocol.CA, topic: third, schema: 'f144' },
  { id: 'counter CA data f144', record: 'counter', protocol: Protocol.CA, topic: data, schema: 'f144' },
  { id: 'counter PVA second f144', record: 'counter', protocol: Protocol.PVA, topic: second, schema: 'f144' },
  { id: 'sine PVA third f142', record: 'sine', protocol: Protocol.PVA, topic: third, schema: 'f142' },
];

const fc00Stream = (stream: TestStream, periodic = 0): Fc00Stream => ({
  channel: world.ioc.pv(stream.record),
  schema: stream.schema,
  topic: stream.topic(),
  protocol: stream.protocol,
  periodic,
});

const PROTOCOL_LABEL: Record<number, string> = { [Protocol.CA]: 'CA', [Protocol.PVA]: 'PVA' };
const statusKey = (s: StatusStream): string =>
  `${s.channel_name} ${s.protocol} ${s.output_topic} ${s.schema}`;
const streamKey = (s: TestStream): string =>
  `${world.ioc.pv(s.record)} ${PROTOCOL_LABEL[s.protocol]} ${s.topic()} ${s.schema}`;

const valueMessages = (stream: TestStream, since: ReadonlyMap<string, number>): number =>
  forwarded(
    world.reader,
    stream.topic(),
    stream.schema,
    world.ioc.pv(stream.record),
    since.get(stream.topic()),
  ).length;

const topicMarks = (): Map<string, number> =>
  new Map([data(), second(), third()].map((topic) => [topic, world.reader.of(topic).length]));

/**
 * Sends a command, waits for the status to list exactly `remaining`, lets messages in flight arrive, then checks
 * that every remaining stream forwards new values and no removed one does.
 */
async function commandLeaves(command: Uint8Array, remaining: readonly TestStream[]): Promise<void> {
  const since = world.reader.of(world.topics.status).length;
  await world.sendCommand(command);
  const wanted = remaining.map(streamKey).sort();
  await waitForStatus(
    world,
    since,
    (streams) => JSON.stringify(streams.map(statusKey).sort()) === JSON.stringify(wanted),
    `status listing ${remaining.map((s) => s.id).join(', ')}`,
  );
  await sleep(1000);
  const marks = topicMarks();
  await world.reader.waitFor(
    data(),
    () => remaining.every((stream) => valueMessages(stream, marks) >= 2),
    15_000,
    'new values from every remaining stream',
  );
  for (const stream of STREAMS.filter((s) => !remaining.includes(s))) {
    assert.equal(valueMessages(stream, marks), 0, `removed stream ${stream.id} still forwards`);
  }
}

const remove = (channel: string, topic: string, schema: string): Uint8Array =>
  serialiseFc00({
    configChange: UpdateType.REMOVE,
    streams: [{ channel, topic, schema, protocol: Protocol.CA, periodic: 0 }],
  });

describe('forwarder: REMOVE with wildcards, independent streams of one PV', { timeout: 120_000 }, () => {
  const remaining = [...STREAMS];
  const without = (...ids: string[]): TestStream[] => {
    for (const id of ids)
      remaining.splice(
        remaining.findIndex((s) => s.id === id),
        1,
      );
    return [...remaining];
  };

  it('forwards every added stream', async () => {
    await world.startForwarder(world.standardArguments(['--pv-update-period', String(PERIOD_MS)]));
    await commandLeaves(
      serialiseFc00({ configChange: UpdateType.ADD, streams: STREAMS.map((s) => fc00Stream(s)) }),
      STREAMS,
    );
  });

  it('removes the streams whose name matches a wildcard, whatever their protocol and topic', async () => {
    await commandLeaves(
      remove('*:count?r', '', ''),
      without('counter CA data f144', 'counter PVA second f144'),
    );
  });

  it('matches schemas exactly: a wildcard schema removes nothing', async () => {
    await commandLeaves(remove('', '', 'f?44'), [...remaining]);
    await commandLeaves(remove('*', '*', 'f14*'), [...remaining]);
  });

  it('removes one topic of a PV; the same PV, protocol and schema on another topic keeps forwarding', async () => {
    await commandLeaves(remove('*tick', 'third-*', 'f144'), without('tick CA third f144'));
  });

  it('removes one schema of a PV; the other schema of the same CA channel keeps forwarding', async () => {
    await commandLeaves(remove(world.ioc.pv('ti?k'), data(), 'f142'), without('tick CA data f142'));
  });

  it('removes the PVA stream of a PV; its CA stream keeps forwarding', async () => {
    await commandLeaves(remove('*', 'sec?nd-*', ''), without('tick PVA second f144'));
    assert.deepEqual(
      remaining.map((s) => s.id),
      ['tick CA data f144', 'sine PVA third f142'],
    );
  });

  it('subscribes again when removed streams are added back, over CA and PVA', async () => {
    const last = [...remaining];
    await commandLeaves(
      serialiseFc00({ configChange: UpdateType.REMOVEALL, streams: [] }),
      without(...last.map((s) => s.id)),
    );
    await commandLeaves(
      serialiseFc00({ configChange: UpdateType.ADD, streams: last.map((s) => fc00Stream(s)) }),
      last,
    );
  });
});

describe('forwarder: a second ADD with another periodic flag changes the stream', { timeout: 60_000 }, () => {
  const topic = (): string => world.extraTopic('periodic');
  const ao = (): string => world.ioc.pv('ao');
  const stream = (periodic: number): Uint8Array =>
    serialiseFc00({
      configChange: UpdateType.ADD,
      streams: [{ channel: ao(), schema: 'f144', topic: topic(), protocol: Protocol.CA, periodic }],
    });
  const aoStatus = (streams: StatusStream[]): StatusStream[] =>
    streams.filter((s) => s.channel_name === ao());

  async function addAndWaitForFlag(periodic: number): Promise<void> {
    const since = world.reader.of(world.topics.status).length;
    await world.sendCommand(stream(periodic));
    const streams = await waitForStatus(
      world,
      since,
      (s) => aoStatus(s).length === 1 && aoStatus(s)[0]?.periodic === (periodic !== 0),
      `ao listed once with periodic ${periodic}`,
    );
    assert.deepEqual(aoStatus(streams).length, 1);
  }

  it('sends a static PV once while the stream is not periodic', async () => {
    await addAndWaitForFlag(0);
    await world.reader.waitFor(topic(), () => forwarded(world.reader, topic(), 'f144').length > 0, 10_000);
    await sleep(2.5 * PERIOD_MS);
    assert.equal(forwarded(world.reader, topic(), 'f144').length, 1, 'no re-sends');
  });

  it('starts re-sending the last value once per period after ADD with periodic 1, without a second stream', async () => {
    const [original] = forwarded(world.reader, topic(), 'f144');
    await addAndWaitForFlag(1);
    const from = world.reader.of(topic()).length;
    await sleep(3.5 * PERIOD_MS);
    const resent = forwarded(world.reader, topic(), 'f144', ao(), from);
    assert.ok(resent.length >= 2 && resent.length <= 4, `${resent.length} f144 re-sends in 3.5 periods`);
    for (const copy of resent) {
      assert.deepEqual(copy.read.payload, original!.read.payload, 're-sends carry the original bytes');
      assert.ok(copy.read.timestampMs > original!.read.timestampMs, 'with the wall clock as Kafka time');
    }
    // One subscription: no second CONNECTED, no second fresh value.
    const connected = forwarded(world.reader, topic(), 'ep01', ao()).filter(
      (m) => m.message.status === ConnectionInfo.CONNECTED,
    );
    assert.ok(
      connected.every((m) => m.read.payload.equals(connected[0]!.read.payload)),
      'one CONNECTED',
    );
  });

  it('stops re-sending after ADD with periodic 0, and the stream keeps forwarding', async () => {
    await addAndWaitForFlag(0);
    await sleep(PERIOD_MS);
    const from = world.reader.of(topic()).length;
    await sleep(2.5 * PERIOD_MS);
    assert.deepEqual(
      world.reader
        .of(topic())
        .slice(from)
        .map((m) => m.decoded?.schema),
      [],
      'no re-sends',
    );
    await caPut(world.ioc.clientEnv, [[ao(), [2.5]]]);
    await world.reader.waitFor(
      topic(),
      () =>
        forwarded(world.reader, topic(), 'f144', ao(), from).some((m) => plainValue(m.message.value) === 2.5),
      10_000,
      'the new value of ao',
    );
  });
});

describe('forwarder: a stream added later for a PV already forwarded', { timeout: 60_000 }, () => {
  const wf = (): string => world.ioc.pv('wf:double');
  const values = [0.25, 1.25, 2.25, 3.25, 4.25];
  const add = (topic: string, streams: Array<[Protocol, 'f144' | 'f142']>): Uint8Array =>
    serialiseFc00({
      configChange: UpdateType.ADD,
      streams: streams.map(([protocol, schema]) => ({ channel: wf(), schema, topic, protocol, periodic: 0 })),
    });

  /** Waits for the static waveform's value as f144 and f142 on `topic`, and for one CONNECTED per stream. */
  async function waitForBoth(topic: string): Promise<void> {
    await world.reader.waitFor(
      topic,
      () =>
        (['f144', 'f142'] as const).every((schema) =>
          forwarded(world.reader, topic, schema, wf()).some(
            (m) => JSON.stringify(plainValue(m.message.value)) === JSON.stringify(values),
          ),
        ) &&
        forwarded(world.reader, topic, 'ep01', wf()).filter(
          (m) => m.message.status === ConnectionInfo.CONNECTED,
        ).length === 2,
      15_000,
      `the value of ${wf()} as f144 and f142 on ${topic}, and CONNECTED twice`,
    );
  }

  it('gets the current value and CONNECTED of a static PV whose channel is already open', async () => {
    await world.sendCommand(
      add(world.extraTopic('periodic'), [
        [Protocol.CA, 'f144'],
        [Protocol.PVA, 'f142'],
      ]),
    );
    await waitForBoth(world.extraTopic('periodic'));
    await world.sendCommand(
      add(world.extraTopic('third'), [
        [Protocol.CA, 'f142'],
        [Protocol.PVA, 'f144'],
      ]),
    );
    await waitForBoth(world.extraTopic('third'));
  });
});
