/**
 * DBR payloads: the value structures of Channel Access in their plain, STS, TIME, GR and CTRL forms for all
 * seven native types, decoded and encoded by layout tables (offsets from EPICS `db_access.h`).
 *
 * Pad bytes inside the structures are skipped, never checked: servers do not always zero them.
 */
import {
  DbrClass,
  EPICS_EPOCH_UNIX_SECONDS,
  LAST_VALUE_DBR_TYPE,
  MAX_ENUM_STATES,
  MAX_ENUM_STRING_SIZE,
  MAX_STRING_SIZE,
  MAX_UNITS_SIZE,
  NATIVE_TYPE_COUNT,
  NativeType,
} from './constants.js';
import { CaProtocolError, padded, readNulTerminated } from './messages.js';

/** Bytes per element, by native type. */
export const ELEMENT_SIZES: readonly number[] = [MAX_STRING_SIZE, 2, 4, 2, 1, 4, 8];

/** Offset of the first value element, by class then native type. GR/CTRL_STRING are laid out like STS_STRING. */
const VALUE_OFFSETS: Readonly<Record<DbrClass, readonly number[]>> = {
  [DbrClass.PLAIN]: [0, 0, 0, 0, 0, 0, 0],
  [DbrClass.STS]: [4, 4, 4, 4, 5, 4, 8],
  [DbrClass.TIME]: [12, 14, 12, 14, 15, 12, 16],
  [DbrClass.GR]: [4, 24, 40, 422, 19, 36, 64],
  [DbrClass.CTRL]: [4, 28, 48, 422, 21, 44, 80],
};

type LimitKind = 'i16' | 'f32' | 'u8' | 'i32' | 'f64';

/** Where the graphic/control metadata lies for the native types that have units and limits. */
interface MetadataLayout {
  readonly precisionAt?: number;
  readonly unitsAt: number;
  readonly limitsAt: number;
  readonly limitKind: LimitKind;
}

const LIMIT_SIZES: Readonly<Record<LimitKind, number>> = { i16: 2, f32: 4, u8: 1, i32: 4, f64: 8 };

const METADATA_LAYOUTS: readonly (MetadataLayout | undefined)[] = [
  undefined, // STRING: none
  { unitsAt: 4, limitsAt: 12, limitKind: 'i16' }, // SHORT
  { precisionAt: 4, unitsAt: 8, limitsAt: 16, limitKind: 'f32' }, // FLOAT
  undefined, // ENUM: state strings instead
  { unitsAt: 4, limitsAt: 12, limitKind: 'u8' }, // CHAR
  { unitsAt: 4, limitsAt: 12, limitKind: 'i32' }, // LONG
  { precisionAt: 4, unitsAt: 8, limitsAt: 16, limitKind: 'f64' }, // DOUBLE
];

/** Limit names in wire order; GR has the first six, CTRL all eight. */
export const LIMIT_NAMES = [
  'upperDisplay',
  'lowerDisplay',
  'upperAlarm',
  'upperWarning',
  'lowerWarning',
  'lowerAlarm',
  'upperControl',
  'lowerControl',
] as const;
const GR_LIMIT_COUNT = 6;
export type DbrLimits = Partial<Record<(typeof LIMIT_NAMES)[number], number>>;

/** CTRL_ENUM / GR_ENUM: i16 number of strings at 4, sixteen 26-byte strings at 6. */
const ENUM_COUNT_AT = 4;
const ENUM_STRINGS_AT = 6;

export interface DbrMetadata {
  readonly units?: string;
  readonly precision?: number;
  readonly limits?: DbrLimits;
  readonly enumStrings?: readonly string[];
}

export type DbrElements =
  Int16Array | Float32Array | Uint16Array | Uint8Array | Int32Array | Float64Array | string[];

/** A DBR structure as the wire carries it; fields a class lacks are undefined. */
export interface DbrData {
  readonly status?: number;
  readonly severity?: number;
  /** TIME: seconds since 1990-01-01 UTC and nanoseconds, raw. */
  readonly secondsPastEpoch?: number;
  readonly nanoseconds?: number;
  /** GR/CTRL. */
  readonly metadata?: DbrMetadata;
  readonly values: DbrElements;
}

export function isValueDbrType(dbrType: number): boolean {
  return Number.isInteger(dbrType) && dbrType >= 0 && dbrType <= LAST_VALUE_DBR_TYPE;
}

export function dbrClassOf(dbrType: number): DbrClass {
  return (dbrType - (dbrType % NATIVE_TYPE_COUNT)) as DbrClass;
}

export function nativeTypeOf(dbrType: number): NativeType {
  return (dbrType % NATIVE_TYPE_COUNT) as NativeType;
}

export function dbrType(dbrClass: DbrClass, nativeType: NativeType): number {
  return dbrClass + nativeType;
}

export function dbrValueOffset(dbrType: number): number {
  return VALUE_OFFSETS[dbrClassOf(dbrType)][nativeTypeOf(dbrType)] as number;
}

/** Unpadded payload size of `count` elements. */
export function dbrPayloadSize(dbrType: number, count: number): number {
  return dbrValueOffset(dbrType) + count * (ELEMENT_SIZES[nativeTypeOf(dbrType)] as number);
}

/** Throws unless `payload` holds `count` elements of this type (a truncated last string is tolerated). */
export function checkDbrPayload(dbrType: number, count: number, payload: Buffer): void {
  if (!isValueDbrType(dbrType)) throw new CaProtocolError(`unknown DBR type ${dbrType}`);
  let needed = dbrPayloadSize(dbrType, count);
  if (nativeTypeOf(dbrType) === NativeType.STRING && count > 0) needed -= MAX_STRING_SIZE - 1;
  if (payload.length < needed) {
    throw new CaProtocolError(
      `DBR type ${dbrType} with ${count} elements needs ${needed} bytes, got ${payload.length}`,
    );
  }
}

const NANOSECONDS_PER_SECOND = 1_000_000_000n;
const MAX_NANOSECONDS = 999_999_999;

/**
 * Unix time in ns of an EPICS timestamp, at full precision. nsec values of a second or more (user tags in the
 * low bits at some sites) are clamped.
 */
export function epicsTimeToUnixNs(secondsPastEpoch: number, nanoseconds: number): bigint {
  return (
    BigInt(secondsPastEpoch + EPICS_EPOCH_UNIX_SECONDS) * NANOSECONDS_PER_SECOND +
    BigInt(nanoseconds > MAX_NANOSECONDS ? MAX_NANOSECONDS : nanoseconds)
  );
}

/** One element of a numeric native type. */
export function readNumber(nativeType: NativeType, buffer: Buffer, offset: number): number {
  switch (nativeType) {
    case NativeType.SHORT:
      return buffer.readInt16BE(offset);
    case NativeType.FLOAT:
      return buffer.readFloatBE(offset);
    case NativeType.ENUM:
      return buffer.readUInt16BE(offset);
    case NativeType.CHAR:
      return buffer.readUInt8(offset);
    case NativeType.LONG:
      return buffer.readInt32BE(offset);
    case NativeType.DOUBLE:
      return buffer.readDoubleBE(offset);
    default:
      throw new CaProtocolError(`native type ${nativeType} is not numeric`);
  }
}

export function readDbrString(buffer: Buffer, offset: number): string {
  return readNulTerminated(buffer, offset, Math.min(offset + MAX_STRING_SIZE, buffer.length));
}

export function readStrings(buffer: Buffer, offset: number, count: number): string[] {
  const values = new Array<string>(count);
  for (let i = 0; i < count; i++) values[i] = readDbrString(buffer, offset + i * MAX_STRING_SIZE);
  return values;
}

type NumericElements = Exclude<DbrElements, string[]>;

/** Copies `count` big-endian elements into a new native-order typed array (one copy plus an in-place swap). */
export function readNumericArray(
  nativeType: NativeType,
  buffer: Buffer,
  offset: number,
  count: number,
): NumericElements {
  let values: NumericElements;
  switch (nativeType) {
    case NativeType.SHORT:
      values = new Int16Array(count);
      break;
    case NativeType.FLOAT:
      values = new Float32Array(count);
      break;
    case NativeType.ENUM:
      values = new Uint16Array(count);
      break;
    case NativeType.CHAR:
      values = new Uint8Array(count);
      break;
    case NativeType.LONG:
      values = new Int32Array(count);
      break;
    case NativeType.DOUBLE:
      values = new Float64Array(count);
      break;
    default:
      throw new CaProtocolError(`native type ${nativeType} is not numeric`);
  }
  if (count === 0) return values;
  const bytes = Buffer.from(values.buffer, 0, values.byteLength);
  buffer.copy(bytes, 0, offset, offset + values.byteLength);
  if (values.BYTES_PER_ELEMENT === 2) bytes.swap16();
  else if (values.BYTES_PER_ELEMENT === 4) bytes.swap32();
  else if (values.BYTES_PER_ELEMENT === 8) bytes.swap64();
  return values;
}

export function readElements(
  nativeType: NativeType,
  buffer: Buffer,
  offset: number,
  count: number,
): DbrElements {
  return nativeType === NativeType.STRING
    ? readStrings(buffer, offset, count)
    : readNumericArray(nativeType, buffer, offset, count);
}

function readLimit(kind: LimitKind, buffer: Buffer, offset: number): number {
  switch (kind) {
    case 'i16':
      return buffer.readInt16BE(offset);
    case 'f32':
      return buffer.readFloatBE(offset);
    case 'u8':
      return buffer.readUInt8(offset);
    case 'i32':
      return buffer.readInt32BE(offset);
    case 'f64':
      return buffer.readDoubleBE(offset);
  }
}

function writeLimit(kind: LimitKind, buffer: Buffer, offset: number, value: number): void {
  switch (kind) {
    case 'i16':
      buffer.writeInt16BE(value, offset);
      return;
    case 'f32':
      buffer.writeFloatBE(value, offset);
      return;
    case 'u8':
      buffer.writeUInt8(value, offset);
      return;
    case 'i32':
      buffer.writeInt32BE(value, offset);
      return;
    case 'f64':
      buffer.writeDoubleBE(value, offset);
      return;
  }
}

/** Enum state strings of a GR/CTRL_ENUM payload; only the first `no_str` (at most 16) count. */
export function readEnumStrings(payload: Buffer): string[] {
  const count = Math.max(0, Math.min(MAX_ENUM_STATES, payload.readInt16BE(ENUM_COUNT_AT)));
  const strings = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const start = ENUM_STRINGS_AT + i * MAX_ENUM_STRING_SIZE;
    strings[i] = readNulTerminated(payload, start, start + MAX_ENUM_STRING_SIZE);
  }
  return strings;
}

/** Units, precision, limits or enum strings of a GR/CTRL payload (already checked for size). */
export function readMetadata(dbrType: number, payload: Buffer): DbrMetadata {
  const nativeType = nativeTypeOf(dbrType);
  if (nativeType === NativeType.ENUM) return { enumStrings: readEnumStrings(payload) };
  const layout = METADATA_LAYOUTS[nativeType];
  if (!layout) return {};
  const limitCount = dbrClassOf(dbrType) === DbrClass.CTRL ? LIMIT_NAMES.length : GR_LIMIT_COUNT;
  const step = LIMIT_SIZES[layout.limitKind];
  const limits: DbrLimits = {};
  for (let i = 0; i < limitCount; i++) {
    limits[LIMIT_NAMES[i] as (typeof LIMIT_NAMES)[number]] = readLimit(
      layout.limitKind,
      payload,
      layout.limitsAt + i * step,
    );
  }
  const units = readNulTerminated(payload, layout.unitsAt, layout.unitsAt + MAX_UNITS_SIZE);
  return layout.precisionAt === undefined
    ? { units, limits }
    : { units, precision: payload.readInt16BE(layout.precisionAt), limits };
}

/** Decodes a whole DBR structure of `count` elements. */
export function decodeDbr(dbrType: number, count: number, payload: Buffer): DbrData {
  checkDbrPayload(dbrType, count, payload);
  const dbrClass = dbrClassOf(dbrType);
  const values = readElements(nativeTypeOf(dbrType), payload, dbrValueOffset(dbrType), count);
  if (dbrClass === DbrClass.PLAIN) return { values };
  const status = payload.readInt16BE(0);
  const severity = payload.readInt16BE(2);
  if (dbrClass === DbrClass.STS) return { status, severity, values };
  if (dbrClass === DbrClass.TIME) {
    return {
      status,
      severity,
      secondsPastEpoch: payload.readUInt32BE(4),
      nanoseconds: payload.readUInt32BE(8),
      values,
    };
  }
  return { status, severity, metadata: readMetadata(dbrType, payload), values };
}

function writeFixedString(buffer: Buffer, offset: number, text: string, size: number): void {
  // Leaves room for the NUL, except that a full-size string may fill its field.
  buffer.write(text, offset, size, 'utf8');
}

/** Encodes a DBR structure (used to build test frames and by test servers); the result is padded to 8. */
export function encodeDbr(dbrType: number, data: DbrData): Buffer {
  if (!isValueDbrType(dbrType)) throw new RangeError(`unknown DBR type ${dbrType}`);
  const nativeType = nativeTypeOf(dbrType);
  const dbrClass = dbrClassOf(dbrType);
  const count = data.values.length;
  const out = Buffer.alloc(padded(dbrPayloadSize(dbrType, count)));
  if (dbrClass !== DbrClass.PLAIN) {
    out.writeInt16BE(data.status ?? 0, 0);
    out.writeInt16BE(data.severity ?? 0, 2);
  }
  if (dbrClass === DbrClass.TIME) {
    out.writeUInt32BE(data.secondsPastEpoch ?? 0, 4);
    out.writeUInt32BE(data.nanoseconds ?? 0, 8);
  }
  if (dbrClass === DbrClass.GR || dbrClass === DbrClass.CTRL)
    writeMetadata(dbrType, out, data.metadata ?? {});
  const valueOffset = dbrValueOffset(dbrType);
  const size = ELEMENT_SIZES[nativeType] as number;
  for (let i = 0; i < count; i++) {
    const value = data.values[i] as number | string;
    if (typeof value === 'string') writeFixedString(out, valueOffset + i * size, value, size);
    else writeNumber(nativeType, out, valueOffset + i * size, value);
  }
  return out;
}

function writeNumber(nativeType: NativeType, buffer: Buffer, offset: number, value: number): void {
  switch (nativeType) {
    case NativeType.SHORT:
      buffer.writeInt16BE(value, offset);
      return;
    case NativeType.FLOAT:
      buffer.writeFloatBE(value, offset);
      return;
    case NativeType.ENUM:
      buffer.writeUInt16BE(value, offset);
      return;
    case NativeType.CHAR:
      buffer.writeUInt8(value, offset);
      return;
    case NativeType.LONG:
      buffer.writeInt32BE(value, offset);
      return;
    case NativeType.DOUBLE:
      buffer.writeDoubleBE(value, offset);
      return;
    default:
      throw new RangeError(`native type ${nativeType} is not numeric`);
  }
}

function writeMetadata(dbrType: number, out: Buffer, metadata: DbrMetadata): void {
  const nativeType = nativeTypeOf(dbrType);
  if (nativeType === NativeType.ENUM) {
    const strings = (metadata.enumStrings ?? []).slice(0, MAX_ENUM_STATES);
    out.writeInt16BE(strings.length, ENUM_COUNT_AT);
    strings.forEach((text, i) =>
      writeFixedString(out, ENUM_STRINGS_AT + i * MAX_ENUM_STRING_SIZE, text, MAX_ENUM_STRING_SIZE - 1),
    );
    return;
  }
  const layout = METADATA_LAYOUTS[nativeType];
  if (!layout) return;
  if (layout.precisionAt !== undefined) out.writeInt16BE(metadata.precision ?? 0, layout.precisionAt);
  writeFixedString(out, layout.unitsAt, metadata.units ?? '', MAX_UNITS_SIZE - 1);
  const limitCount = dbrClassOf(dbrType) === DbrClass.CTRL ? LIMIT_NAMES.length : GR_LIMIT_COUNT;
  const step = LIMIT_SIZES[layout.limitKind];
  for (let i = 0; i < limitCount; i++) {
    const value = metadata.limits?.[LIMIT_NAMES[i] as (typeof LIMIT_NAMES)[number]] ?? 0;
    writeLimit(layout.limitKind, out, layout.limitsAt + i * step, value);
  }
}
