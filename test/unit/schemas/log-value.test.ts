/** The value and alarm mapping rules (docs/forwarding.md, "Values per protocol"; docs/differences.md for f142 over PVA). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alarm } from '../../../src/model/update.js';
import { UnsupportedValueError } from '../../../src/schemas/errors.js';
import { Value as F142ValueTag } from '../../../src/schemas/generated/f142/value.js';
import {
  F142_STRING_ARRAY_TAG,
  F142_STRING_TAG,
  F142AlarmSeverity,
  f142AlarmSeverity,
  F142AlarmStatus,
  f142AlarmStatus,
  LogValueTag,
  logValueTag,
  toF142Value,
  toF144Value,
} from '../../../src/schemas/log-value.js';

const alarm = (status: number, message: string): Alarm => ({ severity: 1, status, message });

describe('PV values to f144/f142 union members', () => {
  it('passes numbers and arrays through with their own type', () => {
    const scalar = { kind: 'scalar', type: 'uint32', value: 7 } as const;
    assert.equal(toF144Value(scalar, 'ca'), scalar);
    const array = { kind: 'array', type: 'int64', value: BigInt64Array.of(1n, 2n) } as const;
    assert.equal(toF144Value(array, 'pva'), array);
    assert.equal(logValueTag(scalar), LogValueTag.UInt);
    assert.equal(logValueTag(array), LogValueTag.ArrayLong);
  });

  it('squeezes 1-element arrays to scalars of the same type, keeps empty arrays', () => {
    assert.deepEqual(toF144Value({ kind: 'array', type: 'uint64', value: BigUint64Array.of(5n) }, 'pva'), {
      kind: 'scalar',
      type: 'uint64',
      value: 5n,
    });
    const empty = { kind: 'array', type: 'float32', value: new Float32Array(0) } as const;
    assert.equal(toF144Value(empty, 'ca'), empty);
    assert.deepEqual(toF142Value({ kind: 'stringArray', value: ['only'] }, 'ca'), {
      kind: 'string',
      value: 'only',
    });
  });

  it('sends enums as UShort over CA and as Long over pvAccess and for fake PVs', () => {
    assert.deepEqual(toF144Value({ kind: 'enum', index: 3 }, 'ca'), {
      kind: 'scalar',
      type: 'uint16',
      value: 3,
    });
    assert.deepEqual(toF144Value({ kind: 'enum', index: 3 }, 'pva'), {
      kind: 'scalar',
      type: 'int64',
      value: 3n,
    });
    assert.deepEqual(toF144Value({ kind: 'enum', index: 3 }, 'fake'), {
      kind: 'scalar',
      type: 'int64',
      value: 3n,
    });
  });

  it('f144 refuses strings, booleans and tables; f142 takes strings but not booleans', () => {
    assert.throws(() => toF144Value({ kind: 'string', value: 'x' }, 'ca'), UnsupportedValueError);
    assert.throws(() => toF144Value({ kind: 'stringArray', value: ['x', 'y'] }, 'ca'), UnsupportedValueError);
    assert.throws(() => toF144Value({ kind: 'booleanArray', value: [true] }, 'pva'), /boolean values/);
    assert.throws(() => toF142Value({ kind: 'boolean', value: true }, 'pva'), UnsupportedValueError);
    assert.throws(() => toF142Value({ kind: 'table', columns: new Map() }, 'pva'), /nttable_se00/);
    assert.equal(logValueTag(toF142Value({ kind: 'string', value: 'x' }, 'ca')), F142_STRING_TAG);
    assert.equal(
      logValueTag(toF142Value({ kind: 'stringArray', value: ['x', 'y'] }, 'ca')),
      F142_STRING_ARRAY_TAG,
    );
  });

  it('f142 and f144 number their numeric members alike; f142 adds String 21 and ArrayString 22', () => {
    for (let tag = LogValueTag.NONE; tag <= LogValueTag.ArrayDouble; tag++) {
      assert.equal(F142ValueTag[tag], LogValueTag[tag]);
    }
    assert.equal(F142ValueTag.String, F142_STRING_TAG);
    assert.equal(F142ValueTag.ArrayString, F142_STRING_ARRAY_TAG);
  });
});

describe('EPICS alarms to f142 alarm fields', () => {
  it('maps EPICS severities to f142 order', () => {
    assert.deepEqual([0, 1, 2, 3].map(f142AlarmSeverity), [
      F142AlarmSeverity.NO_ALARM,
      F142AlarmSeverity.MINOR,
      F142AlarmSeverity.MAJOR,
      F142AlarmSeverity.INVALID,
    ]);
    assert.throws(() => f142AlarmSeverity(4), UnsupportedValueError);
  });

  it('takes the CA status number as it is', () => {
    for (let status = 0; status <= 21; status++)
      assert.equal(f142AlarmStatus(alarm(status, ''), 'ca'), status);
    assert.equal(f142AlarmStatus(alarm(22, ''), 'ca'), F142AlarmStatus.UDF);
    assert.equal(f142AlarmStatus(alarm(-1, ''), 'ca'), F142AlarmStatus.UDF);
  });

  it('maps pvAccess messages by name, bare (as QSRV sends them) or with _ALARM', () => {
    const names = [
      'NO_ALARM',
      'READ',
      'WRITE',
      'HIHI',
      'HIGH',
      'LOLO',
      'LOW',
      'STATE',
      'COS',
      'COMM',
      'TIMEOUT',
      'HWLIMIT',
      'CALC',
      'SCAN',
      'LINK',
      'SOFT',
      'BAD_SUB',
      'UDF',
      'DISABLE',
      'SIMM',
      'READ_ACCESS',
      'WRITE_ACCESS',
    ];
    names.forEach((name, status) => {
      assert.equal(f142AlarmStatus(alarm(0, name), 'pva'), status, name);
      assert.equal(f142AlarmStatus(alarm(0, name), 'fake'), status, name);
      const suffixed = status === 0 ? name : `${name === 'TIMEOUT' ? 'TIMED' : name}_ALARM`;
      assert.equal(f142AlarmStatus(alarm(0, suffixed), 'pva'), status, suffixed);
    });
    assert.equal(f142AlarmStatus(alarm(0, 'TIMED'), 'pva'), F142AlarmStatus.TIMED);
  });

  it('reports an empty pvAccess message without severity (QSRV, not in alarm) as NO_ALARM', () => {
    const quiet = { severity: 0, status: 0, message: '' };
    assert.equal(f142AlarmStatus(quiet, 'pva'), F142AlarmStatus.NO_ALARM);
    assert.equal(f142AlarmStatus(quiet, 'fake'), F142AlarmStatus.NO_ALARM);
    assert.equal(f142AlarmStatus({ ...quiet, severity: 2 }, 'pva'), F142AlarmStatus.UDF);
  });

  it('reports unknown pvAccess messages as UDF, as the reference does', () => {
    for (const message of ['', 'hihi', 'NO_ALARM_ALARM', 'NO_CHANGE', 'Custom alarm text']) {
      assert.equal(f142AlarmStatus(alarm(3, message), 'pva'), F142AlarmStatus.UDF, message);
    }
  });
});
