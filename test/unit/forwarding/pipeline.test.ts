import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutputSchema, StreamSpec } from '../../../src/model/stream.js';
import type { ConnectionEvent, PvUpdate } from '../../../src/model/update.js';
import { StreamPipeline } from '../../../src/forwarding/pipeline.js';
import type { MessageSink } from '../../../src/forwarding/sink.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { deserialiseAd00, deserialiseAny, keepable } from '../../../src/schemas/index.js';

interface Sent {
  topic: string;
  key: string;
  identifier: string;
  timestampMs: number;
  payload: Uint8Array;
}

class RecordingSink implements MessageSink {
  readonly sent: Sent[] = [];
  send(topic: string, key: Buffer, payload: Uint8Array, timestampMs: number): void {
    this.sent.push({
      topic,
      key: key.toString(),
      identifier: deserialiseAny(payload).schema,
      timestampMs,
      payload: keepable(payload),
    });
  }
  identifiers(): string[] {
    return this.sent.map((s) => s.identifier);
  }
}

const NOW_MS = 1_700_000_000_000;
const NOW_NS = BigInt(NOW_MS) * 1_000_000n;

function setup(schema: OutputSchema, periodic = false, protocol: StreamSpec['protocol'] = 'ca') {
  const sink = new RecordingSink();
  let nowMs = NOW_MS;
  const pipeline = new StreamPipeline(
    { pvName: 'SIMPLE:DOUBLE', protocol, topic: 'data', schema, periodic },
    { sink, logger: silentLogger, now: () => nowMs },
  );
  return { sink, pipeline, advance: (ms: number) => (nowMs += ms) };
}

const update = (value: number, offsetMs = 0, severity = 0, message = 'NO_ALARM'): PvUpdate => ({
  value: { kind: 'scalar', type: 'float64', value },
  timestampNs: NOW_NS + BigInt(offsetMs) * 1_000_000n,
  alarm: { severity, status: 0, message },
});
const connection = (state: ConnectionEvent['state'], offsetMs = 0): ConnectionEvent => ({
  state,
  timestampNs: NOW_NS + BigInt(offsetMs) * 1_000_000n,
});

describe('stream pipeline', () => {
  it('sends the value then al00 for f144, keyed by PV name with the EPICS time in ms', () => {
    const { sink, pipeline } = setup('f144');
    pipeline.onUpdate(update(1.5, 7));
    assert.deepEqual(sink.identifiers(), ['f144', 'al00']);
    assert.ok(
      sink.sent.every((s) => s.key === 'SIMPLE:DOUBLE' && s.topic === 'data' && s.timestampMs === NOW_MS + 7),
    );
  });

  it('sends no al00 for f142, which carries the alarm itself', () => {
    const { sink, pipeline } = setup('f142');
    pipeline.onUpdate(update(1));
    pipeline.onUpdate(update(2, 1, 1, 'HIGH'));
    assert.deepEqual(sink.identifiers(), ['f142', 'f142']);
  });

  it('sends al00 only when severity or message changes', () => {
    const { sink, pipeline } = setup('f144');
    pipeline.onUpdate(update(1, 0));
    pipeline.onUpdate(update(2, 1));
    pipeline.onUpdate(update(16, 2, 1, 'HIGH'));
    pipeline.onUpdate(update(17, 3, 1, 'HIGH'));
    pipeline.onUpdate(update(21, 4, 2, 'HIHI'));
    assert.deepEqual(sink.identifiers(), ['f144', 'al00', 'f144', 'f144', 'al00', 'f144', 'f144', 'al00']);
  });

  it('sends ep01 on state changes only, never before the first connection', () => {
    const { sink, pipeline } = setup('f144');
    pipeline.onConnection(connection('disconnected'));
    pipeline.onConnection(connection('connected', 1));
    pipeline.onConnection(connection('connected', 2));
    pipeline.onConnection(connection('disconnected', 3));
    pipeline.onConnection(connection('connected', 4));
    const states = sink.sent.map((s) => {
      const decoded = deserialiseAny(s.payload);
      return decoded.schema === 'ep01' ? decoded.message.status : undefined;
    });
    assert.equal(states.length, 3);
    assert.equal(pipeline.counters.connection, 'connected');
  });

  it('drops messages older than the last accepted, too old or too far in the future', () => {
    const { sink, pipeline } = setup('f142');
    pipeline.onUpdate(update(1, 1000));
    pipeline.onUpdate(update(2, 500)); // older than the previous
    pipeline.onUpdate(update(3, 1000)); // equal passes
    pipeline.onUpdate(update(4, 11 * 60 * 1000)); // > 10 min ahead
    pipeline.onUpdate({ ...update(5), timestampNs: 0n }); // never processed: 1970
    assert.equal(sink.sent.length, 2);
    assert.equal(pipeline.counters.rejected.timestamp, 3);
  });

  it('keeps al00 and ep01 flowing when the main schema cannot carry the value', () => {
    const { sink, pipeline } = setup('f144');
    pipeline.onConnection(connection('connected'));
    pipeline.onUpdate({ ...update(0), value: { kind: 'string', value: 'text' } });
    assert.deepEqual(sink.identifiers(), ['ep01', 'al00']);
    assert.equal(pipeline.counters.rejected.unsupported, 1);
  });

  it('re-sends cached value, al00 and ep01 unchanged with the wall clock as Kafka time, only when periodic', () => {
    const { sink, pipeline, advance } = setup('f144', true);
    pipeline.onConnection(connection('connected'));
    pipeline.onUpdate(update(1.5));
    const first = sink.sent.slice();
    advance(5000);
    pipeline.resend(NOW_MS + 5000);
    const resent = sink.sent.slice(first.length);
    assert.deepEqual(resent.map((s) => s.identifier).sort(), ['al00', 'ep01', 'f144']);
    for (const message of resent) {
      assert.equal(message.timestampMs, NOW_MS + 5000);
      assert.deepEqual(message.payload, first.find((f) => f.identifier === message.identifier)?.payload);
    }
    pipeline.periodic = false;
    pipeline.resend(NOW_MS + 10000);
    assert.equal(sink.sent.length, first.length + resent.length);
  });

  it('re-sends at once when made periodic later, if the forwarder retains the latest messages', () => {
    const sink = new RecordingSink();
    const pipeline = new StreamPipeline(
      { pvName: 'SIMPLE:DOUBLE', protocol: 'ca', topic: 'data', schema: 'f144', periodic: false },
      { sink, logger: silentLogger, now: () => NOW_MS, retainLatest: true },
    );
    pipeline.onConnection(connection('connected'));
    pipeline.onUpdate(update(1.5));
    pipeline.onUpdate(update(2.5, 1));
    const sent = sink.sent.length;
    pipeline.resend(NOW_MS + 1000);
    assert.equal(sink.sent.length, sent, 'nothing re-sent while not periodic');
    pipeline.periodic = true;
    pipeline.resend(NOW_MS + 2000);
    const resent = sink.sent.slice(sent);
    assert.deepEqual(resent.map((s) => s.identifier).sort(), ['al00', 'ep01', 'f144']);
    assert.deepEqual(resent.find((s) => s.identifier === 'f144')?.payload, sink.sent[sent - 1]?.payload);
    pipeline.periodic = false;
    pipeline.resend(NOW_MS + 3000);
    assert.equal(sink.sent.length, sent + resent.length);
  });

  it("re-sends a periodic image stream's own last frame after other streams' frames were built", () => {
    const sink = new RecordingSink();
    const [first, second] = ['CAM:A', 'CAM:B'].map(
      (pvName) =>
        new StreamPipeline(
          { pvName, protocol: 'pva', topic: 'data', schema: 'ad00', periodic: true },
          { sink, logger: silentLogger, now: () => NOW_MS },
        ),
    );
    const frame = (uniqueId: number): PvUpdate => ({
      ...update(0),
      value: {
        kind: 'ndarray',
        type: 'uint8',
        data: Uint8Array.of(uniqueId, 2, 3, 4),
        dimensions: [2, 2],
        uniqueId,
        codec: '',
        attributes: [],
      },
    });
    first?.onUpdate(frame(7));
    second?.onUpdate(frame(8));
    const sent = sink.sent.length;
    first?.resend(NOW_MS + 1000);
    const resent = sink.sent.slice(sent).find((s) => s.identifier === 'ad00');
    assert.ok(resent);
    const message = deserialiseAd00(resent.payload);
    assert.equal(message.sourceName, 'CAM:A');
    assert.equal(message.uniqueId, 7);
    assert.deepEqual(Array.from(message.data), [7, 2, 3, 4]);
  });

  it('sends nothing for an empty tdct update, and offsets from the EPICS time otherwise', () => {
    const { sink, pipeline } = setup('tdct');
    pipeline.onUpdate({ ...update(0), value: { kind: 'array', type: 'int32', value: new Int32Array(0) } });
    assert.deepEqual(sink.identifiers(), ['al00']);
    pipeline.onUpdate({
      ...update(0, 1),
      value: { kind: 'array', type: 'int32', value: Int32Array.of(10, 20) },
    });
    const tdct = deserialiseAny(sink.sent.at(-1)?.payload ?? new Uint8Array());
    assert.equal(tdct.schema, 'tdct');
  });

  it('with al00 or ep01 as main schema sends that kind twice, as the reference does', () => {
    for (const schema of ['al00', 'ep01'] as const) {
      const { sink, pipeline } = setup(schema);
      pipeline.onConnection(connection('connected'));
      pipeline.onUpdate(update(1));
      assert.deepEqual(
        sink.identifiers(),
        schema === 'al00' ? ['ep01', 'al00', 'al00'] : ['ep01', 'ep01', 'al00'],
      );
    }
  });

  it('with no_op sends only al00 and ep01', () => {
    const { sink, pipeline } = setup('no_op', false, 'pva');
    pipeline.onConnection(connection('connected'));
    pipeline.onUpdate(update(1));
    assert.deepEqual(sink.identifiers(), ['ep01', 'al00']);
  });

  it('keeps the state the status page shows: last update, connection since, server, why not connected', () => {
    const { pipeline, advance } = setup('f144');
    assert.equal(pipeline.counters.connectionSinceMs, NOW_MS, 'never connected since it was added');
    assert.equal(pipeline.counters.server, undefined);
    advance(1000);
    pipeline.onConnection({ ...connection('connected'), detail: '127.0.0.1:5064' });
    const first = update(1.5);
    pipeline.onUpdate(first);
    assert.equal(pipeline.counters.lastUpdate, first);
    assert.deepEqual(
      [pipeline.counters.connectionSinceMs, pipeline.counters.server, pipeline.counters.connectionDetail],
      [NOW_MS + 1000, '127.0.0.1:5064', undefined],
    );
    advance(1000);
    pipeline.onConnection({ ...connection('disconnected'), detail: 'connection closed by the server' });
    assert.deepEqual(
      [pipeline.counters.connectionSinceMs, pipeline.counters.server, pipeline.counters.connectionDetail],
      [NOW_MS + 2000, '127.0.0.1:5064', 'connection closed by the server'],
      'the last server kept',
    );
    assert.equal(pipeline.counters.lastUpdate, first, 'the last value kept');
    advance(1000);
    pipeline.onConnection({ ...connection('disconnected'), detail: 'again' });
    assert.equal(
      pipeline.counters.connectionSinceMs,
      NOW_MS + 2000,
      'the same state does not restart "since"',
    );
  });

  it('says the stream is rejecting while the latest update for its main schema is refused, with why', () => {
    const { pipeline, sink } = setup('f144');
    const text: PvUpdate = { ...update(0), value: { kind: 'string', value: 'text' } };
    pipeline.onUpdate(text);
    assert.match(pipeline.counters.rejecting ?? '', /string/);
    assert.deepEqual(sink.identifiers(), ['al00'], 'the alarm still goes out');
    pipeline.onUpdate(update(2, 1));
    assert.equal(pipeline.counters.rejecting, undefined);
    pipeline.onUpdate(update(3, 0));
    assert.equal(pipeline.counters.rejecting, 'its timestamp is older than the previous message timestamp');
    pipeline.onUpdate(update(4, 2));
    assert.equal(pipeline.counters.rejecting, undefined);
    // A record never processed: its 1990 timestamp is more than a year old.
    const never = setup('f142').pipeline;
    never.onUpdate({ ...update(3), timestampNs: 631_152_000_000_000_000n });
    assert.equal(never.counters.rejecting, 'its timestamp is more than 365.25 days old');
  });

  it('is rejecting from the connection on when the EPICS client cannot express the type', () => {
    for (const [schema, rejecting] of [
      ['f144', 'cannot be forwarded: structure array'],
      ['ep01', undefined],
    ] as const) {
      const { pipeline } = setup(schema, false, 'pva');
      pipeline.onConnection({
        ...connection('connected'),
        unsupported: 'cannot be forwarded: structure array',
      });
      assert.equal(pipeline.counters.rejecting, rejecting, schema);
    }
  });
});
