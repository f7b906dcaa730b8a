/**
 * The golden buffers recorded from the Python reference library (ess-streaming-data-types 0.27.0; how they were
 * made is in the vectors file's "_about"): each decodes to the values of the Python call that made it, with our reader and with the
 * flatc-generated one, at any byte offset; and our serialisers reproduce each buffer byte for byte.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type DecodedMessage, deserialiseAny, SCHEMA_READERS } from '../../../src/schemas/registry.js';
import { decodeWithGenerated } from './generated-reader.js';
import { atOffset, serialiseDecoded } from './helpers.js';

interface GoldenVector {
  input: string;
  hex: string;
  length: number;
}

const vectors = (
  JSON.parse(readFileSync(new URL('schemas-test-vectors.json', import.meta.url), 'utf8')) as {
    vectors: Record<string, GoldenVector>;
  }
).vectors;

const T = 1585332414000000000n;

/** The values of the Python call recorded in each vector's `input`. */
const EXPECTED: Record<string, DecodedMessage> = {
  f144_long: {
    schema: 'f144',
    message: {
      sourceName: 'some_source',
      timestampNs: T,
      value: { kind: 'scalar', type: 'int64', value: 578214n },
    },
  },
  f144_double: {
    schema: 'f144',
    message: {
      sourceName: 'some_source',
      timestampNs: T,
      value: { kind: 'scalar', type: 'float64', value: 1.234 },
    },
  },
  f144_float32: {
    schema: 'f144',
    message: { sourceName: 'pv:f', timestampNs: T, value: { kind: 'scalar', type: 'float32', value: 2.5 } },
  },
  f144_zero_ts0: {
    schema: 'f144',
    message: { sourceName: 'pv:z', timestampNs: 0n, value: { kind: 'scalar', type: 'int32', value: 0 } },
  },
  f144_u8arr: {
    schema: 'f144',
    message: {
      sourceName: 'pv:a',
      timestampNs: T,
      value: { kind: 'array', type: 'uint8', value: Uint8Array.of(1, 2, 3) },
    },
  },
  f144_i64arr: {
    schema: 'f144',
    message: {
      sourceName: 'pv:a',
      timestampNs: T,
      value: { kind: 'array', type: 'int64', value: BigInt64Array.of(1n, -2n, 3n) },
    },
  },
  f144_f64arr: {
    schema: 'f144',
    message: {
      sourceName: 'pv:a',
      timestampNs: T,
      value: { kind: 'array', type: 'float64', value: Float64Array.of(1.5, 2.5) },
    },
  },
  f144_u64: {
    schema: 'f144',
    message: {
      sourceName: 'pv:u',
      timestampNs: T,
      value: { kind: 'scalar', type: 'uint64', value: 2n ** 64n - 1n },
    },
  },
  f142_double_alarm: {
    schema: 'f142',
    message: {
      sourceName: 'pv:x',
      timestampNs: T,
      value: { kind: 'scalar', type: 'float64', value: 1.5 },
      alarmStatus: 4,
      alarmSeverity: 1,
    },
  },
  f142_int_noalarm: {
    schema: 'f142',
    message: {
      sourceName: 'pv:x',
      timestampNs: T,
      value: { kind: 'scalar', type: 'int32', value: 7 },
      alarmStatus: 22,
      alarmSeverity: 4,
    },
  },
  f142_i32arr: {
    schema: 'f142',
    message: {
      sourceName: 'pv:x',
      timestampNs: T,
      value: { kind: 'array', type: 'int32', value: Int32Array.of(1, 2, 3) },
      alarmStatus: 0,
      alarmSeverity: 2,
    },
  },
  f142_string: {
    schema: 'f142',
    message: {
      sourceName: 'pv:s',
      timestampNs: T,
      value: { kind: 'string', value: 'hello' },
      alarmStatus: 0,
      alarmSeverity: 2,
    },
  },
  f142_strarr: {
    schema: 'f142',
    message: {
      sourceName: 'pv:s',
      timestampNs: T,
      value: { kind: 'stringArray', value: ['a', 'bc', 'def'] },
      alarmStatus: 0,
      alarmSeverity: 2,
    },
  },
  al00_major: {
    schema: 'al00',
    message: { sourceName: 'some_source', timestampNs: 1234567890n, severity: 2, message: 'Some message' },
  },
  al00_ok: {
    schema: 'al00',
    message: { sourceName: 'pv', timestampNs: T, severity: 0, message: 'NO_ALARM' },
  },
  ep01_nosvc: { schema: 'ep01', message: { sourceName: 'pv:x', timestampNs: T, status: 2 } },
  ep01_svc: {
    schema: 'ep01',
    message: { sourceName: 'test_source', timestampNs: T, status: 3, serviceId: 'test_service' },
  },
  ep00: { schema: 'ep00', message: { sourceName: 'pv:x', timestampNs: T, type: 2, serviceId: 'svc' } },
  tdct_seq: {
    schema: 'tdct',
    message: {
      sourceName: 'some_name',
      timestampsNs: BigUint64Array.of(0n, 1n, 2n, 3n, 4n),
      sequenceCounter: 42n,
    },
  },
  tdct_noseq: { schema: 'tdct', message: { sourceName: 'chopper', timestampsNs: BigUint64Array.of(T) } },
  x5f2: {
    schema: 'x5f2',
    message: {
      softwareName: 'Forwarder',
      softwareVersion: '2.1.0',
      serviceId: 'fwd-1',
      hostName: 'host',
      processId: 1234,
      updateIntervalMs: 4000,
      statusJson:
        '{"streams": [{"channel_name": "pv:x", "protocol": "PVA", "output_topic": "t", "schema": "f144"}]}',
    },
  },
  // Python was given [ch1, ch2] and wrote them reversed; the wire order is what a reader sees.
  fc00_add: {
    schema: 'fc00',
    message: {
      configChange: 0,
      streams: [
        { channel: 'ch2', schema: 'tdct', topic: 't2', protocol: 1, periodic: 1000 },
        { channel: 'ch1', schema: 'f144', topic: 't1', protocol: 0, periodic: 0 },
      ],
    },
  },
  fc00_removeall: { schema: 'fc00', message: { configChange: 2, streams: [] } },
  rf5k_add: {
    schema: 'rf5k',
    message: {
      configChange: 0,
      streams: [
        { channel: 'ch2', schema: 'tdct', topic: 't2', protocol: 1 },
        { channel: 'ch1', schema: 'f142', topic: 't1', protocol: 0 },
      ],
    },
  },
  se00: {
    schema: 'se00',
    message: {
      sourceName: 'pv:t',
      channel: 0,
      packetTimestampNs: T,
      timeDeltaNs: 10,
      timestampLocation: 2,
      values: Float64Array.of(1, 2, 3),
      timestampsNs: BigInt64Array.of(T, T + 10n, T + 20n),
      messageCounter: 0n,
    },
  },
};

describe('golden vectors from the Python reference', () => {
  it('has an expectation for every vector', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), Object.keys(vectors).sort());
    assert.equal(Object.keys(vectors).length, 25);
  });

  for (const [name, vector] of Object.entries(vectors)) {
    const expected = EXPECTED[name];
    const bytes = Buffer.from(vector.hex, 'hex');

    it(`${name}: decodes to the recorded values`, () => {
      assert.ok(expected);
      assert.equal(bytes.length, vector.length);
      assert.deepEqual(deserialiseAny(bytes), expected);
      assert.deepEqual(SCHEMA_READERS[expected.schema].deserialise(bytes), expected.message);
    });

    it(`${name}: decodes the same at every byte offset`, () => {
      assert.ok(expected);
      for (let offset = 1; offset < 16; offset++)
        assert.deepEqual(deserialiseAny(atOffset(bytes, offset)), expected);
    });

    it(`${name}: the flatc-generated reader agrees`, () => {
      assert.deepEqual(decodeWithGenerated(bytes), expected);
    });

    it(`${name}: serialising the values reproduces the bytes`, () => {
      assert.ok(expected);
      assert.equal(Buffer.from(serialiseDecoded(expected)).toString('hex'), vector.hex);
    });
  }
});
