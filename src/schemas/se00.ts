/**
 * se00 SampleEnvironmentData: an array of samples with per-sample timestamps, which the forwarder fills from the
 * `value` and `timestamp` columns of an NTTable (schema "nttable_se00"). Its deprecated predecessor senv has the
 * same slots, so the builder and reader here serve both (see senv.ts).
 */
import type { NumericArray, NumericType, TableColumn, TableValue } from '../model/update.js';
import { createNumericVector, createOffsetTable, finishMessage, startMessage } from './builder.js';
import { UnsupportedValueError } from './errors.js';
import { Location } from './generated/se00/location.js';
import { se00_SampleEnvironmentData as SampleEnvironmentData } from './generated/se00/se00-sample-environment-data.js';
import { ValueUnion } from './generated/se00/value-union.js';
import { numericTypeOf, TYPED_ARRAY } from './numeric.js';
import { type EnumFields, readRootTable } from './reader.js';

export { Location };

export const SE00_IDENTIFIER = 'se00';

const NAME = 0;
const CHANNEL = 1;
const PACKET_TIMESTAMP = 2;
const TIME_DELTA = 3;
const TIMESTAMP_LOCATION = 4;
const VALUES_TYPE = 5;
const TIMESTAMPS = 7;
const MESSAGE_COUNTER = 8;

export interface Se00Message {
  /** Source (PV) name (field `name`). */
  readonly sourceName: string;
  readonly channel: number;
  /** ns since the Unix epoch of the first sample. */
  readonly packetTimestampNs: bigint;
  /** ns between samples. */
  readonly timeDeltaNs: number;
  readonly timestampLocation: Location;
  readonly values: NumericArray;
  /** Per-sample timestamps, ns since the Unix epoch; absent when not sent. */
  readonly timestampsNs?: BigInt64Array;
  readonly messageCounter: bigint;
}

export const SE00_ENUM_FIELDS: EnumFields = { timestampLocation: Location };

/** se00 value union tags; senv uses the same numbers for its integer members (1-8) and has no floats. */
export const SAMPLE_VALUE_TAG: { readonly [T in NumericType]: number } = {
  int8: ValueUnion.se00_Int8Array,
  uint8: ValueUnion.se00_UInt8Array,
  int16: ValueUnion.se00_Int16Array,
  uint16: ValueUnion.se00_UInt16Array,
  int32: ValueUnion.se00_Int32Array,
  uint32: ValueUnion.se00_UInt32Array,
  int64: ValueUnion.se00_Int64Array,
  uint64: ValueUnion.se00_UInt64Array,
  float64: ValueUnion.se00_DoubleArray,
  float32: ValueUnion.se00_FloatArray,
};

const SAMPLE_TYPE_OF_TAG = new Map(
  Object.entries(SAMPLE_VALUE_TAG).map(([type, tag]) => [tag, type as NumericType] as const),
);

/** se00 and senv fields as stored; senv's unsigned timestamps and counter have the same bytes as these. */
export interface SampleEnvironmentFields extends Omit<Se00Message, 'timestampsNs'> {
  readonly timestampsNs?: BigInt64Array | BigUint64Array;
}

export function serialiseSe00(message: Se00Message): Uint8Array {
  return buildSampleEnvironment(SE00_IDENTIFIER, message);
}

/** The Python reference's call order (no forced defaults), so the bytes equal `serialise_se00`'s. */
export function buildSampleEnvironment(
  identifier: 'se00' | 'senv',
  message: SampleEnvironmentFields,
): Uint8Array {
  const builder = startMessage(false);
  const timestamps =
    message.timestampsNs === undefined ? 0 : createNumericVector(builder, message.timestampsNs);
  const values = createOffsetTable(builder, createNumericVector(builder, message.values));
  const name = builder.createString(message.sourceName);
  SampleEnvironmentData.startse00_SampleEnvironmentData(builder);
  SampleEnvironmentData.addName(builder, name);
  SampleEnvironmentData.addTimeDelta(builder, message.timeDeltaNs);
  SampleEnvironmentData.addTimestampLocation(builder, message.timestampLocation);
  SampleEnvironmentData.addMessageCounter(builder, message.messageCounter);
  SampleEnvironmentData.addChannel(builder, message.channel);
  SampleEnvironmentData.addPacketTimestamp(builder, message.packetTimestampNs);
  SampleEnvironmentData.addValues(builder, values);
  SampleEnvironmentData.addValuesType(builder, SAMPLE_VALUE_TAG[numericTypeOf(message.values)]);
  if (message.timestampsNs !== undefined) SampleEnvironmentData.addTimestamps(builder, timestamps);
  return finishMessage(SampleEnvironmentData.endse00_SampleEnvironmentData(builder), identifier);
}

export function deserialiseSe00(bytes: Uint8Array): Se00Message {
  const fields = readSampleEnvironment(bytes, SE00_IDENTIFIER, 'int64');
  return fields as Se00Message;
}

/**
 * Reads se00 or senv: 64-bit integers as `int64` (se00) or `uint64` (senv), value union members that `accepts`
 * (senv has no float members).
 */
export function readSampleEnvironment(
  bytes: Uint8Array,
  identifier: 'se00' | 'senv',
  int64: 'int64' | 'uint64',
  accepts: (type: NumericType) => boolean = () => true,
): SampleEnvironmentFields {
  const root = readRootTable(bytes, identifier);
  const tag = root.uint8(VALUES_TYPE);
  const type = SAMPLE_TYPE_OF_TAG.get(tag);
  if (type === undefined || !accepts(type)) return root.fail(`unknown value union member ${tag}`);
  const valueTable = root.table(VALUES_TYPE + 1) ?? root.fail('values missing');
  const timestampsNs = root.numericVector(TIMESTAMPS, int64);
  const read64 = (id: number): bigint => (int64 === 'int64' ? root.int64(id) : root.uint64(id));
  return {
    sourceName: root.string(NAME) ?? '',
    channel: root.int32(CHANNEL),
    packetTimestampNs: read64(PACKET_TIMESTAMP),
    timeDeltaNs: root.float64(TIME_DELTA),
    timestampLocation: root.int8(TIMESTAMP_LOCATION),
    values: valueTable.numericVector(0, type) ?? new TYPED_ARRAY[type](0),
    ...(timestampsNs === null ? {} : { timestampsNs }),
    messageCounter: read64(MESSAGE_COUNTER),
  };
}

/** The `value` and `timestamp` columns of an NTTable; null when it has no rows (nothing is sent then). */
export interface SampleColumns {
  readonly values: NumericArray;
  readonly timestampsNs: BigInt64Array;
}

export function sampleColumns(table: TableValue): SampleColumns | null {
  const values = table.columns.get('value');
  const timestamps = table.columns.get('timestamp');
  if (values === undefined || timestamps === undefined) {
    const found = [...table.columns.keys()].join(', ');
    throw new UnsupportedValueError(`NTTable needs columns "value" and "timestamp"; it has ${found}`);
  }
  const timestampsNs = toInt64Timestamps(numericColumn(timestamps, 'timestamp'));
  if (timestampsNs.length === 0) return null;
  return { values: numericColumn(values, 'value'), timestampsNs };
}

function numericColumn(column: TableColumn, label: string): NumericArray {
  if (column.kind !== 'array') throw new UnsupportedValueError(`NTTable column "${label}" is not numeric`);
  return column.value;
}

/** Timestamps as int64 ns, cast as numpy's astype does (integers wrap, floats truncate). */
function toInt64Timestamps(column: NumericArray): BigInt64Array {
  if (column instanceof BigInt64Array) return column;
  if (column instanceof BigUint64Array)
    return new BigInt64Array(column.buffer, column.byteOffset, column.length);
  const timestamps = new BigInt64Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const value = column[i] ?? 0;
    if (!Number.isFinite(value)) throw new UnsupportedValueError(`NTTable timestamp ${value} is not finite`);
    timestamps[i] = BigInt(Math.trunc(value));
  }
  return timestamps;
}

/**
 * The fields the forwarder derives from an NTTable (reference nttable_se00 serialiser): the packet timestamp is
 * the first row's, the time delta the difference of the first two rows' (0 for a one-row table, on which the
 * reference failed), channel 0, location Middle.
 */
export function sampleEnvironmentOfColumns(
  sourceName: string,
  columns: SampleColumns,
  messageCounter: bigint,
): Omit<Se00Message, 'values' | 'timestampsNs'> {
  const first = columns.timestampsNs[0] ?? 0n;
  const second = columns.timestampsNs[1] ?? first;
  return {
    sourceName,
    channel: 0,
    packetTimestampNs: first,
    timeDeltaNs: Number(second - first),
    timestampLocation: Location.Middle,
    messageCounter,
  };
}

/** A serialised NTTable message and its timestamp (the first row's), which is also its Kafka timestamp. */
export interface SampleMessage {
  readonly bytes: Uint8Array;
  readonly timestampNs: bigint;
}

/** Serialises the NTTable updates of one PV as se00, numbering them 0, 1, 2, ... */
export class Se00Serialiser {
  private messageCounter = 0n;

  constructor(readonly sourceName: string) {}

  /** Null for a table without rows. Throws UnsupportedValueError without numeric value and timestamp columns. */
  serialise(table: TableValue): SampleMessage | null {
    const columns = sampleColumns(table);
    if (columns === null) return null;
    const fields = sampleEnvironmentOfColumns(this.sourceName, columns, this.messageCounter);
    this.messageCounter += 1n;
    const bytes = serialiseSe00({ ...fields, values: columns.values, timestampsNs: columns.timestampsNs });
    return { bytes, timestampNs: fields.packetTimestampNs };
  }
}
