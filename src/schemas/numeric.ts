/**
 * Facts about the numeric element types shared by every schema: sizes, typed arrays, and raw little-endian
 * access to typed-array bytes (FlatBuffers is little-endian; the bulk copies here rely on the host being so).
 */
import { endianness } from 'node:os';
import type {
  NumericArray,
  NumericArrayOf,
  NumericArrayValue,
  NumericScalarValue,
  NumericType,
} from '../model/update.js';

if (endianness() !== 'LE') {
  throw new Error('The FlatBuffers serialisers need a little-endian host');
}

export const NUMERIC_TYPES: readonly NumericType[] = [
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
];

interface TypedArrayConstructor<A> {
  new (length: number): A;
  readonly BYTES_PER_ELEMENT: number;
}

export const TYPED_ARRAY: { readonly [T in NumericType]: TypedArrayConstructor<NumericArrayOf[T]> } = {
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

/** Bytes per element. */
export function sizeOf(type: NumericType): number {
  return TYPED_ARRAY[type].BYTES_PER_ELEMENT;
}

/** The bytes of a typed array (a view, no copy). */
export function bytesOf(array: NumericArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** The numeric type of a typed array. */
export function numericTypeOf(array: NumericArray): NumericType {
  if (array instanceof Int8Array) return 'int8';
  if (array instanceof Uint8Array) return 'uint8';
  if (array instanceof Int16Array) return 'int16';
  if (array instanceof Uint16Array) return 'uint16';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Uint32Array) return 'uint32';
  if (array instanceof BigInt64Array) return 'int64';
  if (array instanceof BigUint64Array) return 'uint64';
  if (array instanceof Float32Array) return 'float32';
  return 'float64';
}

/**
 * Copies `count` elements of `type` starting at `bytes[start]` into a new typed array. Works at any alignment,
 * so buffers sliced out of a Kafka batch at odd offsets read correctly.
 */
export function copyNumericArray<T extends NumericType>(
  type: T,
  bytes: Uint8Array,
  start: number,
  count: number,
): NumericArrayOf[T] {
  const array = new TYPED_ARRAY[type](count);
  bytesOf(array).set(bytes.subarray(start, start + count * sizeOf(type)));
  return array;
}

/** A scalar value of `type`; `value` must be a bigint for 64-bit integer types and a number otherwise. */
export function numericScalar(type: NumericType, value: number | bigint): NumericScalarValue {
  // The pairing of type and value representation is the caller's contract; TypeScript cannot correlate them.
  return { kind: 'scalar', type, value } as NumericScalarValue;
}

/** An array value of `type`; `value` must be the typed array of that type. */
export function numericArray(type: NumericType, value: NumericArray): NumericArrayValue {
  return { kind: 'array', type, value } as NumericArrayValue;
}
