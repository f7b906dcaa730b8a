/**
 * What the area-detector schemas (ad00, da00) share: arrays and attribute values as a type and little-endian
 * bytes, and the shape of an NTNDArray. Both schemas number the same element types in the same order (da00 after
 * a `none` of its own), so a value's type is its place in ARRAY_DATA_TYPES.
 */
import type { NdArrayValue, NdAttribute, NumericArray, NumericType, PvValue } from '../model/update.js';
import { UnsupportedValueError } from './errors.js';
import { bytesOf, NUMERIC_TYPES, TYPED_ARRAY } from './numeric.js';

/** An array's element type as the area-detector schemas name it: the numeric types, and strings. */
export type ArrayDataType = NumericType | 'c_string';

/** In the schemas' order: ad00's DType numbers them from 0, da00's dtype from 1. */
export const ARRAY_DATA_TYPES: readonly ArrayDataType[] = [...NUMERIC_TYPES, 'c_string'];

/** A value as the schemas carry it: its element type and its bytes. */
export interface ArrayData {
  readonly type: ArrayDataType;
  readonly bytes: Uint8Array;
}

const utf8 = new TextEncoder();

/** An attribute's value: a number as an array of one, a string as its UTF-8 bytes. */
export function attributeData(value: NdAttribute['value']): ArrayData {
  switch (value.kind) {
    case 'scalar': {
      const one: NumericArray = new TYPED_ARRAY[value.type](1);
      (one as unknown as { [index: number]: number | bigint })[0] = value.value;
      return { type: value.type, bytes: bytesOf(one) };
    }
    case 'array':
      return { type: value.type, bytes: bytesOf(value.value) };
    case 'string':
      return { type: 'c_string', bytes: utf8.encode(value.value) };
  }
}

/**
 * The NTNDArray of an update, uncompressed. Throws UnsupportedValueError for any other value, and for compressed
 * arrays: no maintained library decompresses areaDetector's codecs for Node.js (docs/images.md).
 */
export function uncompressedImage(value: PvValue, schema: string): NdArrayValue {
  if (value.kind !== 'ndarray') {
    throw new UnsupportedValueError(`schema ${schema} needs an NTNDArray, got a ${value.kind} value`);
  }
  if (value.codec !== '') {
    throw new UnsupportedValueError(
      `compressed NTNDArray (codec ${value.codec}) is not forwarded; forward the array before NDPluginCodec`,
    );
  }
  const elements = value.dimensions.reduce((product, size) => product * size, 1);
  if (value.dimensions.length > 0 && elements !== value.data.length) {
    throw new UnsupportedValueError(
      `NTNDArray dimensions ${value.dimensions.join('x')} hold ${elements} elements, its value ${value.data.length}`,
    );
  }
  return value;
}

/** The image's element data: its type (booleans as uint8) and its bytes, a view of the received data. */
export function imageData(image: NdArrayValue): ArrayData {
  return { type: image.type === 'boolean' ? 'uint8' : image.type, bytes: bytesOf(image.data) };
}

/**
 * The image's shape as numpy's C order gives it, slowest-varying first: NTNDArray lists dimension 0 (x, varying
 * fastest) first, so the shape is its dimensions reversed, as p4p and ESS's consumers read them. An array without
 * dimensions is one-dimensional.
 */
export function imageShape(image: NdArrayValue): BigInt64Array {
  const dimensions = image.dimensions.length > 0 ? image.dimensions : [image.data.length];
  const shape = new BigInt64Array(dimensions.length);
  for (let i = 0; i < dimensions.length; i++) shape[i] = BigInt(dimensions[dimensions.length - 1 - i] ?? 0);
  return shape;
}
