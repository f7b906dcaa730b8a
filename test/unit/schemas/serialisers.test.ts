/**
 * The per-PV serialiser classes the forwarder uses. The hot ones (f144, al00, ep01) patch prebuilt buffers; they
 * must produce exactly the bytes of the plain serialise functions (which match the Python reference) for any
 * sequence of updates. The others apply the reference forwarder's rules (tdct arithmetic, NTTable columns).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ConnectionState, PvUpdate, PvValue, TableColumn } from '../../../src/model/update.js';
import { Al00Serialiser, deserialiseAl00, serialiseAl00 } from '../../../src/schemas/al00.js';
import { CONNECTION_INFO_OF_STATE, Ep01Serialiser, serialiseEp01 } from '../../../src/schemas/ep01.js';
import { UnsupportedValueError } from '../../../src/schemas/errors.js';
import { deserialiseF142, F142Serialiser, serialiseF142 } from '../../../src/schemas/f142.js';
import { deserialiseF144, F144Serialiser, serialiseF144 } from '../../../src/schemas/f144.js';
import type { EpicsProtocol } from '../../../src/model/protocol.js';
import { toF144Value } from '../../../src/schemas/log-value.js';
import { deserialiseSe00, Location, Se00Serialiser } from '../../../src/schemas/se00.js';
import { deserialiseSenv, SenvSerialiser } from '../../../src/schemas/senv.js';
import { deserialiseTdct, TdctSerialiser } from '../../../src/schemas/tdct.js';
import { arrayValue, numericType, scalarValue, text, typedArrayOf } from './helpers.js';

const T = 1585332414000000000n;
const protocol = fc.constantFrom<EpicsProtocol>('ca', 'pva', 'fake');
const timestamp = fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
const zeroish = fc
  .constantFrom(0, -0, Number.NaN)
  .chain((value) =>
    fc
      .constantFrom('int32', 'float32', 'float64')
      .map((type) => ({ kind: 'scalar', type, value }) as PvValue),
  );
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('F144Serialiser', () => {
  it('gives the bytes of serialiseF144 for any sequence of updates', () => {
    const update = fc.record({ value: fc.oneof(scalarValue, scalarValue, zeroish, arrayValue), timestamp });
    fc.assert(
      fc.property(
        text,
        protocol,
        fc.array(update, { minLength: 1, maxLength: 40 }),
        (name, proto, updates) => {
          const serialiser = new F144Serialiser(name, proto);
          for (const { value, timestamp: timestampNs } of updates) {
            const expected = serialiseF144({
              sourceName: name,
              timestampNs,
              value: toF144Value(value, proto),
            });
            assert.equal(hex(serialiser.serialise(value, timestampNs)), hex(expected));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the bytes of serialiseF144 for runs of arrays of one type and length', () => {
    const run = fc
      .record({ type: numericType, length: fc.integer({ min: 0, max: 6 }) })
      .chain(({ type, length }) =>
        fc
          .array(fc.record({ value: typedArrayOf(type, length, length), timestamp }), {
            minLength: 1,
            maxLength: 10,
          })
          .map((updates) =>
            updates.map(({ value, timestamp: timestampNs }) => ({
              value: { kind: 'array', type, value } as PvValue,
              timestampNs,
            })),
          ),
      );
    fc.assert(
      fc.property(text, fc.array(run, { minLength: 1, maxLength: 4 }), (name, runs) => {
        const serialiser = new F144Serialiser(name, 'pva');
        for (const { value, timestampNs } of runs.flat()) {
          const expected = serialiseF144({ sourceName: name, timestampNs, value: toF144Value(value, 'pva') });
          assert.equal(hex(serialiser.serialise(value, timestampNs)), hex(expected));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hands out independent buffers', () => {
    const serialiser = new F144Serialiser('pv', 'ca');
    const first = serialiser.serialise({ kind: 'scalar', type: 'float64', value: 1.5 }, T);
    first.fill(0);
    const second = serialiser.serialise({ kind: 'scalar', type: 'float64', value: 2.5 }, T);
    assert.deepEqual(deserialiseF144(second).value, { kind: 'scalar', type: 'float64', value: 2.5 });
  });

  it('keeps the templates of many serialisers intact side by side (they share slabs)', () => {
    const names = Array.from({ length: 400 }, (_, i) => `PV:${i}:`.padEnd(1 + ((i * 37) % 1500), 'x'));
    const serialisers = names.map((name) => new F144Serialiser(name, 'pva'));
    const value = (i: number): PvValue => ({ kind: 'scalar', type: 'float64', value: i + 0.5 });
    serialisers.forEach((serialiser, i) => serialiser.serialise(value(i), T));
    for (let i = serialisers.length - 1; i >= 0; i--) {
      const out = (serialisers[i] as F144Serialiser).serialise(value(i), T + BigInt(i));
      const expected = serialiseF144({
        sourceName: names[i] as string,
        timestampNs: T + BigInt(i),
        value: toF144Value(value(i), 'pva'),
      });
      assert.equal(hex(out), hex(expected));
      assert.equal(out.buffer.byteLength, out.length, 'a message has a buffer of its own');
    }
  });

  it('sends 1-element arrays as scalars and enums as UShort over CA, Long over pvAccess', () => {
    const decode = (value: PvValue, proto: EpicsProtocol) =>
      deserialiseF144(new F144Serialiser('pv', proto).serialise(value, T)).value;
    assert.deepEqual(decode({ kind: 'array', type: 'float64', value: Float64Array.of(2.5) }, 'ca'), {
      kind: 'scalar',
      type: 'float64',
      value: 2.5,
    });
    assert.deepEqual(decode({ kind: 'enum', index: 2, choices: ['a', 'b', 'c'] }, 'ca'), {
      kind: 'scalar',
      type: 'uint16',
      value: 2,
    });
    assert.deepEqual(decode({ kind: 'enum', index: 2 }, 'pva'), { kind: 'scalar', type: 'int64', value: 2n });
    assert.deepEqual(decode({ kind: 'array', type: 'int16', value: new Int16Array(0) }, 'ca'), {
      kind: 'array',
      type: 'int16',
      value: new Int16Array(0),
    });
  });

  it('refuses strings, booleans and tables with a clear error', () => {
    const serialiser = new F144Serialiser('pv', 'pva');
    assert.throws(() => serialiser.serialise({ kind: 'string', value: 'x' }, T), {
      name: 'UnsupportedValueError',
      message: /f144 cannot carry string values/,
    });
    assert.throws(() => serialiser.serialise({ kind: 'boolean', value: true }, T), UnsupportedValueError);
    assert.throws(
      () => serialiser.serialise({ kind: 'table', columns: new Map() }, T),
      UnsupportedValueError,
    );
  });
});

describe('Al00Serialiser', () => {
  it('gives the bytes of serialiseAl00 for any sequence of alarms', () => {
    const message = fc.oneof(fc.constantFrom('NO_ALARM', 'HIHI', 'HIGH', 'LOW', ''), text);
    const alarm = fc.record({ timestamp, severity: fc.integer({ min: 0, max: 3 }), message });
    fc.assert(
      fc.property(text, fc.array(alarm, { minLength: 1, maxLength: 80 }), (name, alarms) => {
        const serialiser = new Al00Serialiser(name);
        for (const { timestamp: timestampNs, severity, message: text } of alarms) {
          const expected = serialiseAl00({ sourceName: name, timestampNs, severity, message: text });
          assert.equal(hex(serialiser.serialise(timestampNs, { severity, message: text })), hex(expected));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a severity outside EPICS 0-3', () => {
    assert.throws(
      () => new Al00Serialiser('pv').serialise(T, { severity: 4, message: 'x' }),
      UnsupportedValueError,
    );
  });

  it('carries the message verbatim', () => {
    const decoded = deserialiseAl00(new Al00Serialiser('pv').serialise(T, { severity: 1, message: 'HIGH' }));
    assert.deepEqual(decoded, { sourceName: 'pv', timestampNs: T, severity: 1, message: 'HIGH' });
  });
});

describe('Ep01Serialiser', () => {
  it('gives the bytes of serialiseEp01 for any sequence of states', () => {
    const state = fc.constantFrom(...(Object.keys(CONNECTION_INFO_OF_STATE) as ConnectionState[]));
    fc.assert(
      fc.property(
        text,
        fc.array(fc.record({ timestamp, state }), { minLength: 1, maxLength: 20 }),
        (name, events) => {
          const serialiser = new Ep01Serialiser(name);
          for (const event of events) {
            const status = CONNECTION_INFO_OF_STATE[event.state];
            const expected = serialiseEp01({ sourceName: name, timestampNs: event.timestamp, status });
            assert.equal(hex(serialiser.serialise(event.timestamp, event.state)), hex(expected));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('F142Serialiser', () => {
  const update = (value: PvValue, severity: number, status: number, message: string): PvUpdate => ({
    value,
    timestampNs: T,
    alarm: { severity, status, message },
  });

  it('writes the value, timestamp and mapped alarm, as serialiseF142 would', () => {
    const serialiser = new F142Serialiser('pv:x', 'ca');
    const bytes = serialiser.serialise(update({ kind: 'scalar', type: 'float64', value: 21 }, 2, 3, 'HIHI'));
    const expected = {
      sourceName: 'pv:x',
      timestampNs: T,
      value: { kind: 'scalar', type: 'float64', value: 21 },
      alarmStatus: 3,
      alarmSeverity: 1,
    } as const;
    assert.deepEqual(deserialiseF142(bytes), expected);
    assert.equal(hex(bytes), hex(serialiseF142(expected)));
  });

  it('maps bare and _ALARM-suffixed pvAccess alarm messages alike', () => {
    const serialiser = new F142Serialiser('pv:x', 'pva');
    const value: PvValue = { kind: 'scalar', type: 'float64', value: 1 };
    for (const message of ['HIGH', 'HIGH_ALARM']) {
      const decoded = deserialiseF142(serialiser.serialise(update(value, 1, 1, message)));
      assert.equal(decoded.alarmStatus, 4);
      assert.equal(decoded.alarmSeverity, 0);
    }
    assert.equal(deserialiseF142(serialiser.serialise(update(value, 2, 1, 'custom text'))).alarmStatus, 17);
  });

  it('sends strings and string arrays with the legacy union members', () => {
    const serialiser = new F142Serialiser('pv:s', 'ca');
    assert.deepEqual(
      deserialiseF142(serialiser.serialise(update({ kind: 'string', value: 'ü' }, 0, 0, ''))).value,
      {
        kind: 'string',
        value: 'ü',
      },
    );
    const strings: PvValue = { kind: 'stringArray', value: ['a', 'b'] };
    assert.deepEqual(deserialiseF142(serialiser.serialise(update(strings, 0, 0, ''))).value, strings);
    assert.throws(
      () => serialiser.serialise(update({ kind: 'boolean', value: false }, 0, 0, '')),
      UnsupportedValueError,
    );
  });
});

describe('TdctSerialiser', () => {
  const timestampsOf = (bytes: Uint8Array | null): bigint[] => {
    assert.ok(bytes);
    return [...deserialiseTdct(bytes).timestampsNs];
  };

  it('adds the offsets to the origin, as the reference tests expect', () => {
    const serialiser = new TdctSerialiser('chopper', 'pva');
    assert.deepEqual(
      timestampsOf(
        serialiser.serialise({ kind: 'array', type: 'int32', value: Int32Array.of(10, 11, 12) }, 10n),
      ),
      [20n, 21n, 22n],
    );
    assert.deepEqual(
      timestampsOf(
        serialiser.serialise({ kind: 'array', type: 'int32', value: Int32Array.of(-3, -2, -1) }, 10n),
      ),
      [7n, 8n, 9n],
    );
    assert.deepEqual(timestampsOf(serialiser.serialise({ kind: 'scalar', type: 'int32', value: 1 }, 10n)), [
      11n,
    ]);
  });

  it('sends nothing for an empty array and numbers messages from 0', () => {
    const serialiser = new TdctSerialiser('chopper', 'ca');
    const empty: PvValue = { kind: 'array', type: 'float64', value: new Float64Array(0) };
    assert.equal(serialiser.serialise(empty, T), null);
    const counters = [1, 2, 3].map((offset) => {
      const bytes = serialiser.serialise({ kind: 'scalar', type: 'int64', value: BigInt(offset) }, T);
      assert.ok(bytes);
      return deserialiseTdct(bytes).sequenceCounter;
    });
    assert.deepEqual(counters, [0n, 1n, 2n]);
  });

  it('keeps full precision for large origins and truncates float offsets to whole ns', () => {
    const serialiser = new TdctSerialiser('chopper', 'ca');
    const origin = 1700000000123456789n;
    assert.deepEqual(
      timestampsOf(
        serialiser.serialise({ kind: 'array', type: 'float64', value: Float64Array.of(1.9, -1.9) }, origin),
      ),
      [origin + 1n, origin - 1n],
    );
    assert.deepEqual(
      timestampsOf(serialiser.serialise({ kind: 'scalar', type: 'uint64', value: 2n ** 64n - 1n }, 1n)),
      [0n],
    );
  });

  it('accepts a CA enum index but refuses pvAccess enums, strings and non-finite offsets', () => {
    assert.deepEqual(timestampsOf(new TdctSerialiser('c', 'ca').serialise({ kind: 'enum', index: 3 }, 10n)), [
      13n,
    ]);
    assert.throws(
      () => new TdctSerialiser('c', 'pva').serialise({ kind: 'enum', index: 3 }, 10n),
      UnsupportedValueError,
    );
    assert.throws(
      () => new TdctSerialiser('c', 'ca').serialise({ kind: 'string', value: '1' }, 10n),
      UnsupportedValueError,
    );
    const nan: PvValue = { kind: 'scalar', type: 'float64', value: Number.NaN };
    assert.throws(() => new TdctSerialiser('c', 'ca').serialise(nan, 10n), UnsupportedValueError);
  });
});

const table = (columns: Record<string, TableColumn>): PvValue & { kind: 'table' } => ({
  kind: 'table',
  columns: new Map(Object.entries(columns)),
});

describe('Se00Serialiser and SenvSerialiser', () => {
  const timestamps = BigUint64Array.from({ length: 100 }, (_, i) => BigInt(50 + i));

  it('se00: keeps the value type and the timestamps, as the reference test expects', () => {
    const values = Float32Array.from({ length: 10 }, (_, i) => -50 + 11 * i);
    const serialiser = new Se00Serialiser('some_pv');
    const nttable = table({
      value: { kind: 'array', type: 'float32', value: values },
      timestamp: { kind: 'array', type: 'uint64', value: timestamps },
    });
    const first = serialiser.serialise(nttable);
    assert.ok(first);
    assert.equal(first.timestampNs, 50n);
    assert.deepEqual(deserialiseSe00(first.bytes), {
      sourceName: 'some_pv',
      channel: 0,
      packetTimestampNs: 50n,
      timeDeltaNs: 1,
      timestampLocation: Location.Middle,
      values,
      timestampsNs: new BigInt64Array(timestamps.buffer),
      messageCounter: 0n,
    });
    const second = serialiser.serialise(nttable);
    assert.equal(second && deserialiseSe00(second.bytes).messageCounter, 1n);
  });

  it('se00: a one-row table has time delta 0; an empty one sends nothing', () => {
    const serialiser = new Se00Serialiser('pv');
    const oneRow = serialiser.serialise(
      table({
        value: { kind: 'array', type: 'int32', value: Int32Array.of(7) },
        timestamp: { kind: 'array', type: 'int64', value: BigInt64Array.of(T) },
      }),
    );
    assert.ok(oneRow);
    assert.equal(deserialiseSe00(oneRow.bytes).timeDeltaNs, 0);
    const empty = table({
      value: { kind: 'array', type: 'int32', value: new Int32Array(0) },
      timestamp: { kind: 'array', type: 'int64', value: new BigInt64Array(0) },
    });
    assert.equal(serialiser.serialise(empty), null);
  });

  it('refuses tables without numeric value and timestamp columns', () => {
    const serialiser = new Se00Serialiser('pv');
    const timestamp: TableColumn = { kind: 'array', type: 'int64', value: BigInt64Array.of(T) };
    assert.throws(() => serialiser.serialise(table({ timestamp })), /needs columns "value" and "timestamp"/);
    assert.throws(
      () => serialiser.serialise(table({ value: { kind: 'stringArray', value: ['a'] }, timestamp })),
      UnsupportedValueError,
    );
  });

  it('senv: keeps integer columns and rounds float columns half to even, as numpy does', () => {
    const serialiser = new SenvSerialiser('some_pv');
    const ints = Int16Array.from({ length: 100 }, (_, i) => i - 50);
    const intTable = table({
      value: { kind: 'array', type: 'int16', value: ints },
      timestamp: { kind: 'array', type: 'uint64', value: timestamps },
    });
    const first = serialiser.serialise(intTable);
    assert.ok(first);
    const decoded = deserialiseSenv(first.bytes);
    assert.deepEqual(decoded.values, ints);
    assert.deepEqual(decoded.timestampsNs, timestamps);
    assert.equal(decoded.packetTimestampNs, 50n);
    assert.equal(decoded.messageCounter, 0n);

    const floats = Float64Array.of(0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6, -2.6);
    const floatTable = table({
      value: { kind: 'array', type: 'float64', value: floats },
      timestamp: { kind: 'array', type: 'uint64', value: timestamps.subarray(0, floats.length) },
    });
    const rounded = serialiser.serialise(floatTable);
    assert.ok(rounded);
    assert.deepEqual(
      deserialiseSenv(rounded.bytes).values,
      BigInt64Array.of(0n, 2n, 2n, 0n, -2n, 2n, 3n, -3n),
    );
    const nan = table({
      value: { kind: 'array', type: 'float64', value: Float64Array.of(Number.NaN) },
      timestamp: { kind: 'array', type: 'uint64', value: timestamps.subarray(0, 1) },
    });
    assert.throws(() => serialiser.serialise(nan), UnsupportedValueError);
  });
});
