/**
 * Full values of any pvData type (docs/protocols/pvaccess.md, "Values"): decoded from and encoded into the wire
 * format, in either byte order. Numeric arrays are copied out of a message in one piece (a byte swap when the
 * orders differ), never element by element, or not at all when they fill the message (readNumericArray).
 */
import {
  decodeFieldDesc,
  encodeFieldDesc,
  type FieldDesc,
  type TypeRegistry,
  type UnionDesc,
} from './introspection.js';
import { MAX_NESTING_DEPTH, type ScalarType, SizeMarker, scalarByteSize } from './protocol.js';
import { PvaProtocolError, type WireReader, type WireWriter } from './wire.js';
import type { NumericArray } from '../../model/update.js';

/** The selected member of a union (field null when the union is empty). */
export class PvUnion {
  constructor(
    readonly field: string | null,
    readonly type: FieldDesc | null,
    readonly value: PvData | null,
  ) {}
}

/** The content of a variant union: a value with its own type (both null when empty). */
export class PvVariant {
  constructor(
    readonly type: FieldDesc | null,
    readonly value: PvData | null,
  ) {}
}

export interface PvStructureData {
  readonly [field: string]: PvData;
}

/** A decoded value of any pvData type. 64-bit integers are bigint; numeric arrays are typed arrays. */
export type PvData =
  | number
  | bigint
  | string
  | boolean
  | NumericArray
  | readonly string[]
  | readonly boolean[]
  | PvStructureData
  | PvUnion
  | PvVariant
  | readonly (PvStructureData | null)[]
  | readonly (PvUnion | null)[]
  | readonly (PvVariant | null)[];

type NumericArrayType = Exclude<ScalarType, 'boolean' | 'string'>;

const typedArrayClass: Readonly<
  Record<
    NumericArrayType,
    {
      new (length: number): NumericArray;
      from(elements: ArrayLike<never>): NumericArray;
      BYTES_PER_ELEMENT: number;
    }
  >
> = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes one value of a scalar or scalar array type. */
export type ScalarReader = (reader: WireReader) => PvData;

export const scalarReaders: Readonly<Record<ScalarType, ScalarReader>> = {
  boolean: (r) => r.boolean(),
  int8: (r) => r.i8(),
  int16: (r) => r.i16(),
  int32: (r) => r.i32(),
  int64: (r) => r.i64(),
  uint8: (r) => r.u8(),
  uint16: (r) => r.u16(),
  uint32: (r) => r.u32(),
  uint64: (r) => r.u64(),
  float32: (r) => r.f32(),
  float64: (r) => r.f64(),
  string: (r) => r.string(),
};

/**
 * A numeric array out of the message. One that fills most of the buffer holding the message (an image, a long
 * waveform) stays where it is, as a typed array over the received bytes, when the buffer is the message's own
 * (retainable), its elements are aligned for one and in host byte order: keeping that buffer alive costs little
 * beyond the array itself. Any other is copied
 * (one memcpy, plus a byte swap when the orders differ), so that a small array never pins a large buffer.
 */
function readNumericArray(reader: WireReader, type: NumericArrayType): NumericArray {
  const elementSize = scalarByteSize[type];
  const n = reader.count(elementSize);
  const Class = typedArrayClass[type];
  if (n === 0) return new Class(0);
  const byteLength = n * elementSize;
  const received = reader.slice(byteLength);
  const sameOrder = elementSize === 1 || reader.littleEndian === HOST_LITTLE_ENDIAN;
  if (
    reader.retainable &&
    sameOrder &&
    2 * byteLength >= received.buffer.byteLength &&
    received.byteOffset % elementSize === 0
  ) {
    return new (Class as unknown as ViewConstructor)(received.buffer, received.byteOffset, n);
  }
  const out = new Class(n);
  new Uint8Array(out.buffer, 0, byteLength).set(received);
  if (!sameOrder) {
    const swap = Buffer.from(out.buffer, 0, byteLength);
    if (elementSize === 2) swap.swap16();
    else if (elementSize === 4) swap.swap32();
    else swap.swap64();
  }
  return out;
}

/** A typed array class as a view over existing bytes. */
type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => NumericArray;

export function readScalarArray(reader: WireReader, type: ScalarType): PvData {
  if (type === 'string') {
    const n = reader.count(1);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = reader.string();
    return out;
  }
  if (type === 'boolean') {
    const n = reader.count(1);
    const out = new Array<boolean>(n);
    for (let i = 0; i < n; i++) out[i] = reader.boolean();
    return out;
  }
  return readNumericArray(reader, type);
}

/** Decodes one complete value of the given type. */
export function decodeData(reader: WireReader, type: FieldDesc, registry: TypeRegistry, depth = 0): PvData {
  if (depth > MAX_NESTING_DEPTH) throw new PvaProtocolError('value nested too deeply');
  switch (type.kind) {
    case 'scalar':
      return scalarReaders[type.type](reader);
    case 'scalarArray':
      return readScalarArray(reader, type.type);
    case 'structure': {
      const out: Record<string, PvData> = {};
      for (const member of type.fields)
        out[member.name] = decodeData(reader, member.type, registry, depth + 1);
      return out;
    }
    case 'union':
      return readUnion(reader, type, registry, depth);
    case 'any':
      return readVariant(reader, registry, depth);
    case 'structureArray':
      return readArrayOf(reader, (r) => decodeData(r, type.element, registry, depth + 1) as PvStructureData);
    case 'unionArray':
      return readArrayOf(reader, (r) => readUnion(r, type.element, registry, depth + 1));
    case 'anyArray':
      return readArrayOf(reader, (r) => readVariant(r, registry, depth + 1));
  }
}

function readUnion(reader: WireReader, type: UnionDesc, registry: TypeRegistry, depth: number): PvUnion {
  const selector = reader.size();
  if (selector < 0) return EMPTY_UNION;
  const member = type.fields[selector];
  if (!member)
    throw new PvaProtocolError(`union selector ${selector} out of range (${type.fields.length} members)`);
  return new PvUnion(member.name, member.type, decodeData(reader, member.type, registry, depth + 1));
}

function readVariant(reader: WireReader, registry: TypeRegistry, depth: number): PvVariant {
  const type = decodeFieldDesc(reader, registry, depth + 1);
  if (!type) return EMPTY_VARIANT;
  return new PvVariant(type, decodeData(reader, type, registry, depth + 1));
}

function readArrayOf<T>(reader: WireReader, readElement: (reader: WireReader) => T): (T | null)[] {
  const n = reader.count(1);
  const out = new Array<T | null>(n);
  for (let i = 0; i < n; i++) out[i] = reader.boolean() ? readElement(reader) : null;
  return out;
}

const EMPTY_UNION = new PvUnion(null, null, null);
const EMPTY_VARIANT = new PvVariant(null, null);

/** The value a field has before the server sent one: 0, "", false, empty arrays, empty unions. */
export function defaultData(type: FieldDesc): PvData {
  switch (type.kind) {
    case 'scalar':
      if (type.type === 'string') return '';
      if (type.type === 'boolean') return false;
      return type.type === 'int64' || type.type === 'uint64' ? 0n : 0;
    case 'scalarArray':
      if (type.type === 'string' || type.type === 'boolean') return [];
      return new typedArrayClass[type.type](0);
    case 'structure':
      return Object.fromEntries(type.fields.map((m) => [m.name, defaultData(m.type)]));
    case 'union':
      return EMPTY_UNION;
    case 'any':
      return EMPTY_VARIANT;
    case 'structureArray':
    case 'unionArray':
    case 'anyArray':
      return [];
  }
}

/** Encodes one complete value of the given type. */
export function encodeData(writer: WireWriter, type: FieldDesc, value: PvData | null | undefined): void {
  switch (type.kind) {
    case 'scalar':
      writeScalar(writer, type.type, value ?? defaultData(type));
      return;
    case 'scalarArray': {
      const elements = (value ?? []) as ArrayLike<unknown>;
      writer.size(elements.length);
      if (type.type === 'string' || type.type === 'boolean') {
        for (let i = 0; i < elements.length; i++) writeScalar(writer, type.type, elements[i] as PvData);
      } else {
        writeNumericArray(writer, type.type, elements as NumericArray);
      }
      return;
    }
    case 'structure': {
      const fields = (value ?? {}) as PvStructureData;
      for (const member of type.fields) encodeData(writer, member.type, fields[member.name]);
      return;
    }
    case 'union':
      writeUnion(writer, type, value as PvUnion | null | undefined);
      return;
    case 'any':
      writeVariant(writer, value as PvVariant | null | undefined);
      return;
    case 'structureArray':
      writeArrayOf(writer, value, (element) => encodeData(writer, type.element, element as PvStructureData));
      return;
    case 'unionArray':
      writeArrayOf(writer, value, (element) => writeUnion(writer, type.element, element as PvUnion));
      return;
    case 'anyArray':
      writeArrayOf(writer, value, (element) => writeVariant(writer, element as PvVariant));
      return;
  }
}

function writeScalar(writer: WireWriter, type: ScalarType, value: PvData): void {
  switch (type) {
    case 'boolean':
      writer.boolean(value as boolean);
      return;
    case 'int8':
      writer.i8(value as number);
      return;
    case 'int16':
      writer.i16(value as number);
      return;
    case 'int32':
      writer.i32(value as number);
      return;
    case 'int64':
      writer.i64(BigInt(value as bigint));
      return;
    case 'uint8':
      writer.u8(value as number);
      return;
    case 'uint16':
      writer.u16(value as number);
      return;
    case 'uint32':
      writer.u32(value as number);
      return;
    case 'uint64':
      writer.u64(BigInt(value as bigint));
      return;
    case 'float32':
      writer.f32(value as number);
      return;
    case 'float64':
      writer.f64(value as number);
      return;
    case 'string':
      writer.string(value as string);
      return;
  }
}

function writeNumericArray(writer: WireWriter, type: NumericArrayType, elements: ArrayLike<unknown>): void {
  const Class = typedArrayClass[type];
  const typed = elements instanceof Class ? elements : Class.from(elements as ArrayLike<never>);
  const bytes = typed.length * Class.BYTES_PER_ELEMENT;
  const { buffer, offset } = writer.reserve(bytes);
  buffer.set(new Uint8Array(typed.buffer, typed.byteOffset, bytes), offset);
  if (Class.BYTES_PER_ELEMENT > 1 && writer.littleEndian !== HOST_LITTLE_ENDIAN) {
    const swap = buffer.subarray(offset, offset + bytes);
    if (Class.BYTES_PER_ELEMENT === 2) swap.swap16();
    else if (Class.BYTES_PER_ELEMENT === 4) swap.swap32();
    else swap.swap64();
  }
}

function writeUnion(writer: WireWriter, type: UnionDesc, value: PvUnion | null | undefined): void {
  if (!value || value.field === null) {
    writer.u8(SizeMarker.nullValue);
    return;
  }
  const selector = type.fields.findIndex((m) => m.name === value.field);
  const member = type.fields[selector];
  if (!member) throw new Error(`union has no member "${value.field}"`);
  writer.size(selector);
  encodeData(writer, member.type, value.value);
}

function writeVariant(writer: WireWriter, value: PvVariant | null | undefined): void {
  encodeFieldDesc(writer, value?.type ?? null);
  if (value?.type) encodeData(writer, value.type, value.value);
}

function writeArrayOf(
  writer: WireWriter,
  value: PvData | null | undefined,
  write: (e: unknown) => void,
): void {
  const elements = (value ?? []) as readonly unknown[];
  writer.size(elements.length);
  for (const element of elements) {
    if (element === null || element === undefined) {
      writer.u8(0);
    } else {
      writer.u8(1);
      write(element);
    }
  }
}
