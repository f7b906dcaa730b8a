import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DbrClass, NativeType } from '../../../src/epics/ca/constants.js';
import {
  dbrClassOf,
  decodeDbr,
  encodeDbr,
  epicsTimeToUnixNs,
  LIMIT_NAMES,
  nativeTypeOf,
  type DbrLimits,
} from '../../../src/epics/ca/dbr.js';
import { CaProtocolError } from '../../../src/epics/ca/messages.js';
import { channelMetadata, decodeTimeUpdate, NO_METADATA } from '../../../src/epics/ca/updates.js';

/** Vectors built with caproto's ctypes structures (test/env/ca/make_dbr_vectors.py). */
interface Vector {
  name: string;
  dbrType: number;
  count: number;
  fields: {
    status?: number;
    severity?: number;
    secondsPastEpoch?: number;
    nanoseconds?: number;
    units?: string;
    precision?: number;
    limits?: Record<string, number>;
    enumStrings?: string[];
  };
  values: (number | string)[];
  hex: string;
}

const vectors = JSON.parse(readFileSync(new URL('dbr-vectors.json', import.meta.url), 'utf8')) as Vector[];

/** caproto's limit names, in wire order, mapped to ours. */
const CAPROTO_LIMITS = [
  'upper_disp_limit',
  'lower_disp_limit',
  'upper_alarm_limit',
  'upper_warning_limit',
  'lower_warning_limit',
  'lower_alarm_limit',
  'upper_ctrl_limit',
  'lower_ctrl_limit',
];

function expectedLimits(limits: Record<string, number> | undefined): DbrLimits | undefined {
  if (!limits) return undefined;
  const out: DbrLimits = {};
  CAPROTO_LIMITS.forEach((name, i) => {
    if (name in limits) out[LIMIT_NAMES[i] as keyof DbrLimits] = limits[name];
  });
  return out;
}

function expectedMetadata(vector: Vector): object | undefined {
  const { units, precision, limits, enumStrings } = vector.fields;
  if (enumStrings) return { enumStrings };
  if (units === undefined) return dbrClassOf(vector.dbrType) >= DbrClass.GR ? {} : undefined;
  return precision === undefined
    ? { units, limits: expectedLimits(limits) }
    : { units, precision, limits: expectedLimits(limits) };
}

describe('DBR payloads against caproto-built vectors', () => {
  assert.ok(vectors.length >= 60);
  for (const vector of vectors) {
    it(`decodes ${vector.name} x${vector.count}`, () => {
      const decoded = decodeDbr(vector.dbrType, vector.count, Buffer.from(vector.hex, 'hex'));
      assert.equal(decoded.status, vector.fields.status);
      assert.equal(decoded.severity, vector.fields.severity);
      assert.equal(decoded.secondsPastEpoch, vector.fields.secondsPastEpoch);
      assert.equal(decoded.nanoseconds, vector.fields.nanoseconds);
      assert.deepEqual(decoded.metadata, expectedMetadata(vector));
      const values = Array.from(decoded.values as ArrayLike<number | string>);
      if (nativeTypeOf(vector.dbrType) === NativeType.FLOAT) {
        values.forEach((value, i) =>
          assert.ok(Math.abs((value as number) - (vector.values[i] as number)) < 1e-6),
        );
      } else {
        assert.deepEqual(values, vector.values);
      }
    });

    it(`encodes ${vector.name} x${vector.count} to the same bytes, zero-padded to 8`, () => {
      const decoded = decodeDbr(vector.dbrType, vector.count, Buffer.from(vector.hex, 'hex'));
      const encoded = encodeDbr(vector.dbrType, decoded);
      assert.equal(encoded.length % 8, 0);
      assert.equal(encoded.subarray(0, vector.hex.length / 2).toString('hex'), vector.hex);
      assert.ok(encoded.subarray(vector.hex.length / 2).every((byte) => byte === 0));
    });
  }

  it('ignores non-zero pad bytes (rsrv has sent 00 00 00 03 in the DBR_TIME_DOUBLE pad)', () => {
    const payload = Buffer.from('0004000145661bec075bcd1500000003400a000000000000', 'hex');
    const decoded = decodeDbr(20, 1, payload);
    assert.deepEqual(Array.from(decoded.values as Float64Array), [3.25]);
  });

  it('rejects payloads shorter than the layout and unknown DBR types', () => {
    assert.throws(() => decodeDbr(20, 2, Buffer.alloc(24)), CaProtocolError);
    assert.throws(() => decodeDbr(35, 1, Buffer.alloc(64)), CaProtocolError);
    assert.throws(() => decodeDbr(31, 1, Buffer.alloc(100)), CaProtocolError);
  });

  it('reads a 40-character string without NUL and caps it at 40 bytes', () => {
    const payload = Buffer.alloc(12 + 80, 0x41);
    payload.fill(0, 0, 12);
    const decoded = decodeDbr(14, 2, payload);
    assert.deepEqual(decoded.values, ['A'.repeat(40), 'A'.repeat(40)]);
  });

  it('decodes a 100,000-element DBR_TIME_DOUBLE', () => {
    const values = Float64Array.from({ length: 100_000 }, (_, i) => i * 0.5);
    const payload = encodeDbr(20, { status: 0, severity: 0, secondsPastEpoch: 1, nanoseconds: 2, values });
    assert.equal(payload.length, 800_016);
    assert.deepEqual(decodeDbr(20, 100_000, payload).values, values);
  });
});

describe('EPICS timestamps', () => {
  it('converts the 1990 epoch to Unix ns at full precision', () => {
    assert.equal(epicsTimeToUnixNs(0x45661bec, 123456789), 1795471724_123456789n);
    assert.equal(epicsTimeToUnixNs(0, 0), 631152000_000000000n);
    assert.equal(
      epicsTimeToUnixNs(0xffffffff, 999_999_999),
      (4294967295n + 631152000n) * 1_000_000_000n + 999_999_999n,
    );
  });

  it('clamps nanoseconds carrying user tags', () => {
    assert.equal(epicsTimeToUnixNs(1, 0xffffffff), 631152001_999999999n);
  });
});

describe('DBR_TIME payloads as updates', () => {
  const time = (native: string, count: number): Vector => {
    const found = vectors.find((vector) => vector.name === `DBR_TIME_${native}` && vector.count === count);
    assert.ok(found);
    return found;
  };

  it('turns every scalar TIME type into the matching value kind', () => {
    const expected: Record<string, object> = {
      STRING: { kind: 'string', value: 'first' },
      INT: { kind: 'scalar', type: 'int16', value: -2 },
      FLOAT: { kind: 'scalar', type: 'float32', value: 1.5 },
      ENUM: { kind: 'enum', index: 3 },
      CHAR: { kind: 'scalar', type: 'uint8', value: 0 },
      LONG: { kind: 'scalar', type: 'int32', value: -100000 },
      DOUBLE: { kind: 'scalar', type: 'float64', value: 3.25 },
    };
    for (const [native, value] of Object.entries(expected)) {
      const vector = time(native, 1);
      const update = decodeTimeUpdate(
        nativeTypeOf(vector.dbrType),
        1,
        true,
        Buffer.from(vector.hex, 'hex'),
        NO_METADATA,
      );
      assert.deepEqual(update, {
        value,
        timestampNs: 1795471724_123456789n,
        alarm: { severity: 1, status: 4, message: 'HIGH' },
      });
    }
  });

  it('turns arrays into typed arrays (enum arrays as uint16) and string arrays', () => {
    const expected: Record<string, [string, unknown]> = {
      STRING: ['stringArray', ['first', 'a string of exactly forty characters xx.', 'x']],
      INT: ['array', Int16Array.of(-2, 32767, 7)],
      FLOAT: ['array', Float32Array.of(1.5, -0.25, 3)],
      ENUM: ['array', Uint16Array.of(3, 1, 0)],
      CHAR: ['array', Uint8Array.of(0, 255, 65)],
      LONG: ['array', Int32Array.of(-100000, 2147483647, 1)],
      DOUBLE: ['array', Float64Array.of(3.25, -1e300, 0.1)],
    };
    for (const [native, [kind, value]] of Object.entries(expected)) {
      const vector = time(native, 3);
      const update = decodeTimeUpdate(
        nativeTypeOf(vector.dbrType),
        3,
        false,
        Buffer.from(vector.hex, 'hex'),
        NO_METADATA,
      );
      assert.equal(update.value.kind, kind);
      assert.deepEqual((update.value as { value: unknown }).value, value);
    }
  });

  it('attaches units and enum strings from the CTRL metadata', () => {
    const ctrlDouble = vectors.find((vector) => vector.name === 'DBR_CTRL_DOUBLE');
    const ctrlEnum = vectors.find((vector) => vector.name === 'DBR_CTRL_ENUM');
    assert.ok(ctrlDouble && ctrlEnum);
    const units = channelMetadata(decodeDbr(34, 1, Buffer.from(ctrlDouble.hex, 'hex')).metadata ?? {});
    const choices = channelMetadata(decodeDbr(31, 1, Buffer.from(ctrlEnum.hex, 'hex')).metadata ?? {});
    const double = time('DOUBLE', 1);
    const enumeration = time('ENUM', 1);
    assert.deepEqual(
      decodeTimeUpdate(NativeType.DOUBLE, 1, true, Buffer.from(double.hex, 'hex'), units).display,
      { units: 'mA', precision: 3 },
    );
    assert.deepEqual(
      decodeTimeUpdate(NativeType.ENUM, 1, true, Buffer.from(enumeration.hex, 'hex'), choices).value,
      {
        kind: 'enum',
        index: 3,
        choices: ['Idle', 'Ramp', 'Hold', 'Fault'],
      },
    );
  });

  it('gives an empty array for a dynamic count of 0 and unknown alarm codes as numbers', () => {
    const payload = Buffer.from('002a000300000000000000000000000000', 'hex');
    const update = decodeTimeUpdate(NativeType.DOUBLE, 0, false, payload, NO_METADATA);
    assert.deepEqual(update.value, { kind: 'array', type: 'float64', value: new Float64Array(0) });
    assert.deepEqual(update.alarm, { severity: 3, status: 42, message: '42' });
    assert.equal(update.timestampNs, 631152000_000000000n);
  });
});
