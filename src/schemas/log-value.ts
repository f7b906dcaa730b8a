/**
 * How a protocol-neutral PV value becomes an f144/f142 value union member, and an EPICS alarm an f142 status and
 * severity. The rules are the ESS forwarder's (docs/forwarding.md, "Values per protocol" and "f142
 * alarm fields"), except for the alarm status over pvAccess (docs/differences.md).
 */
import type { EpicsProtocol } from '../model/protocol.js';
import type {
  Alarm,
  NumericArrayValue,
  NumericScalarValue,
  NumericType,
  PvValue,
  StringArrayValue,
  StringValue,
} from '../model/update.js';
import type { Builder, Offset } from 'flatbuffers';
import { createNumericVector, createOffsetTable, createScalarTable, createStringVector } from './builder.js';
import { UnsupportedValueError } from './errors.js';
import { numericArray, numericScalar, TYPED_ARRAY } from './numeric.js';
import type { TableReader } from './reader.js';
import { AlarmSeverity as F142AlarmSeverity } from './generated/f142/alarm-severity.js';
import { AlarmStatus as F142AlarmStatus } from './generated/f142/alarm-status.js';
import { Value as F142ValueTag } from './generated/f142/value.js';
import { Value as LogValueTag } from './generated/f144/value.js';

export { F142AlarmSeverity, F142AlarmStatus, LogValueTag };

/** What f144 can carry: one number or a 1-D array of numbers. */
export type F144Value = NumericScalarValue | NumericArrayValue;

/** What f142 can carry: f144's values plus strings (legacy union members 21 and 22). */
export type F142Value = F144Value | StringValue | StringArrayValue;

/** Union tags of the numeric members, the same in f144 and f142 (tags 1-20). */
const NUMERIC_TAGS: { readonly [T in NumericType]: { readonly scalar: number; readonly array: number } } = {
  int8: { scalar: LogValueTag.Byte, array: LogValueTag.ArrayByte },
  uint8: { scalar: LogValueTag.UByte, array: LogValueTag.ArrayUByte },
  int16: { scalar: LogValueTag.Short, array: LogValueTag.ArrayShort },
  uint16: { scalar: LogValueTag.UShort, array: LogValueTag.ArrayUShort },
  int32: { scalar: LogValueTag.Int, array: LogValueTag.ArrayInt },
  uint32: { scalar: LogValueTag.UInt, array: LogValueTag.ArrayUInt },
  int64: { scalar: LogValueTag.Long, array: LogValueTag.ArrayLong },
  uint64: { scalar: LogValueTag.ULong, array: LogValueTag.ArrayULong },
  float32: { scalar: LogValueTag.Float, array: LogValueTag.ArrayFloat },
  float64: { scalar: LogValueTag.Double, array: LogValueTag.ArrayDouble },
};

/** f142's legacy string members (21, 22), absent from f144 and from the upstream f142 schema since 2021. */
export const F142_STRING_TAG = F142ValueTag.String;
export const F142_STRING_ARRAY_TAG = F142ValueTag.ArrayString;

/** The union tag of a value, valid for f142 and, for numeric values, f144. */
export function logValueTag(value: F142Value): number {
  switch (value.kind) {
    case 'scalar':
      return NUMERIC_TAGS[value.type].scalar;
    case 'array':
      return NUMERIC_TAGS[value.type].array;
    case 'string':
      return F142_STRING_TAG;
    case 'stringArray':
      return F142_STRING_ARRAY_TAG;
  }
}

const NUMERIC_MEMBERS: Partial<Record<number, { kind: 'scalar' | 'array'; type: NumericType }>> = {};
for (const [type, tags] of Object.entries(NUMERIC_TAGS) as [
  NumericType,
  { scalar: number; array: number },
][]) {
  NUMERIC_MEMBERS[tags.scalar] = { kind: 'scalar', type };
  NUMERIC_MEMBERS[tags.array] = { kind: 'array', type };
}

/** Writes the value table of a union member (call before starting the table that holds the union). */
export function createLogValue(builder: Builder, value: F142Value): Offset {
  switch (value.kind) {
    case 'scalar':
      return createScalarTable(builder, value);
    case 'array':
      return createOffsetTable(builder, createNumericVector(builder, value.value));
    case 'string':
      return createOffsetTable(builder, builder.createString(value.value));
    case 'stringArray':
      return createOffsetTable(builder, createStringVector(builder, value.value));
  }
}

/**
 * Reads a value union whose type and value fields have ids `typeId` and `typeId + 1`. String members are read
 * only when `withStrings` (f142). A missing value or an unknown member is a SchemaDecodeError, as the Python
 * reference raises on both.
 */
export function readLogValue(table: TableReader, typeId: number, withStrings: boolean): F142Value {
  const tag = table.uint8(typeId);
  const member = table.table(typeId + 1);
  if (tag === LogValueTag.NONE || member === null) return table.fail('value missing');
  const numeric = NUMERIC_MEMBERS[tag];
  if (numeric?.kind === 'scalar') return numericScalar(numeric.type, member.numeric(0, numeric.type));
  if (numeric?.kind === 'array') {
    const array = member.numericVector(0, numeric.type) ?? new TYPED_ARRAY[numeric.type](0);
    return numericArray(numeric.type, array);
  }
  if (withStrings && tag === F142_STRING_TAG) return { kind: 'string', value: member.string(0) ?? '' };
  if (withStrings && tag === F142_STRING_ARRAY_TAG) {
    return { kind: 'stringArray', value: member.stringVector(0) ?? [] };
  }
  return table.fail(`unknown value union member ${tag}`);
}

/**
 * The f144 value for a PV value: 1-element arrays become scalars, enums their index (UShort over CA as caproto
 * delivers it, Long over pvAccess and for fake PVs as p4p's NTEnum index becomes). Throws UnsupportedValueError
 * for strings, booleans and tables, which f144 cannot carry.
 */
export function toF144Value(value: PvValue, protocol: EpicsProtocol): F144Value {
  const mapped = toF142Value(value, protocol);
  if (mapped.kind === 'string' || mapped.kind === 'stringArray') {
    throw new UnsupportedValueError('f144 cannot carry string values; use schema f142 for string PVs');
  }
  return mapped;
}

/** The f142 value for a PV value: as toF144Value, plus strings and string arrays (1-element arrays squeezed). */
export function toF142Value(value: PvValue, protocol: EpicsProtocol): F142Value {
  switch (value.kind) {
    case 'scalar':
    case 'string':
      return value;
    case 'array':
      return value.value.length === 1 ? numericScalar(value.type, value.value[0] as number | bigint) : value;
    case 'stringArray':
      return value.value.length === 1 ? { kind: 'string', value: value.value[0] ?? '' } : value;
    case 'enum':
      return protocol === 'ca'
        ? { kind: 'scalar', type: 'uint16', value: value.index }
        : { kind: 'scalar', type: 'int64', value: BigInt(value.index) };
    case 'boolean':
    case 'booleanArray':
      throw new UnsupportedValueError('boolean values cannot be forwarded as f144 or f142');
    case 'table':
      throw new UnsupportedValueError('NTTable values need schema nttable_se00 or nttable_senv');
    case 'ndarray':
      // The elements alone, flat, as the ESS forwarder sends an NTNDArray (ad00 and da00 keep its shape).
      if (value.type === 'boolean' || value.codec !== '') {
        throw new UnsupportedValueError(
          `an NTNDArray of ${value.codec === '' ? 'booleans' : `${value.codec}-compressed data`} cannot be forwarded as f144 or f142`,
        );
      }
      return toF142Value(numericArray(value.type, value.data), protocol);
  }
}

const F142_SEVERITY_OF_EPICS: readonly F142AlarmSeverity[] = [
  F142AlarmSeverity.NO_ALARM,
  F142AlarmSeverity.MINOR,
  F142AlarmSeverity.MAJOR,
  F142AlarmSeverity.INVALID,
];

/** f142's severity enum (MINOR 0, MAJOR 1, NO_ALARM 2, INVALID 3) for an EPICS severity (0-3). */
export function f142AlarmSeverity(epicsSeverity: number): F142AlarmSeverity {
  const severity = F142_SEVERITY_OF_EPICS[epicsSeverity];
  if (severity === undefined) {
    throw new UnsupportedValueError(`alarm severity ${epicsSeverity} is not an EPICS severity (0-3)`);
  }
  return severity;
}

/**
 * pvAccess alarm messages to f142 status. Real IOCs (QSRV) send the bare EPICS condition names ("HIHI", and
 * "TIMEOUT" for the status f142 calls TIMED); the reference forwarder only knew "HIHI_ALARM"-style names. Both are
 * accepted.
 */
const F142_STATUS_OF_MESSAGE = new Map<string, F142AlarmStatus>([['TIMEOUT', F142AlarmStatus.TIMED]]);
for (let status = F142AlarmStatus.NO_ALARM; status < F142AlarmStatus.NO_CHANGE; status++) {
  const name = F142AlarmStatus[status];
  F142_STATUS_OF_MESSAGE.set(name, status);
  if (status !== F142AlarmStatus.NO_ALARM) F142_STATUS_OF_MESSAGE.set(`${name}_ALARM`, status);
}

/**
 * f142's alarm status for an update: over CA the EPICS status number itself (0-21), over pvAccess and for fake
 * PVs looked up by alarm message. QSRV sends an empty message while a record is not in alarm, so an empty message
 * with severity NO_ALARM is NO_ALARM (the reference reported every such update as UDF). An unknown message becomes
 * UDF, as in the reference; so does a CA status outside 0-21, which the reference could not map and dropped the
 * update for.
 */
export function f142AlarmStatus(alarm: Alarm, protocol: EpicsProtocol): F142AlarmStatus {
  if (protocol === 'ca') {
    return Number.isInteger(alarm.status) && alarm.status >= 0 && alarm.status < F142AlarmStatus.NO_CHANGE
      ? alarm.status
      : F142AlarmStatus.UDF;
  }
  if (alarm.message === '' && alarm.severity === 0) return F142AlarmStatus.NO_ALARM;
  return F142_STATUS_OF_MESSAGE.get(alarm.message) ?? F142AlarmStatus.UDF;
}
