/**
 * The cross-check cases of the area-detector schemas (ad00, da00): NTNDArray values of every element type, of
 * one, two and three dimensions, with attributes of each kind, through the forwarder's serialisers; what the
 * reference deserialisers return for them; and how the reference serialisers would make them. Our messages lay
 * the image out last and the reference's first, so these are compared by value, not by bytes.
 */
import type { NdArrayValue, NdAttribute, NdElementType, NumericArray } from '../../../src/model/update.js';
import { Ad00Serialiser, type Ad00Message } from '../../../src/schemas/ad00.js';
import { ARRAY_DATA_TYPES, type ArrayDataType } from '../../../src/schemas/array-data.js';
import { Da00Serialiser, type Da00Message, type Da00Variable } from '../../../src/schemas/da00.js';
import { bytesOf, NUMERIC_TYPES, TYPED_ARRAY } from '../../../src/schemas/numeric.js';
import type { CrossCheckCase } from './cases.js';

const T = 1585332414123456789n;
const SOURCE = 'AD:image1:Pva1:Image';

/** Dimension sizes in NTNDArray order (x first). */
const DIMENSIONS: readonly (readonly number[])[] = [[5], [3, 2], [3, 2, 2]];

const ATTRIBUTES: readonly NdAttribute[] = [
  { name: 'ColorMode', value: { kind: 'scalar', type: 'int32', value: 0 }, description: '', source: '' },
  {
    name: 'Temperature',
    value: { kind: 'scalar', type: 'float64', value: -12.25 },
    description: 'Sensor temperature',
    source: 'AD:cam1:Temperature_RBV',
  },
  {
    name: 'Model',
    value: { kind: 'string', value: 'Simulated détecteur ✓' },
    description: 'Camera model',
    source: 'MODEL',
  },
  { name: 'Gain', value: { kind: 'scalar', type: 'float32', value: 1.5 }, description: '', source: 'GAIN' },
  {
    name: 'Frames',
    value: { kind: 'scalar', type: 'uint64', value: 2n ** 64n - 1n },
    description: '',
    source: '',
  },
  {
    name: 'ROI',
    value: { kind: 'array', type: 'uint16', value: Uint16Array.of(0, 10, 640, 480) },
    description: 'x, y, width, height',
    source: '',
  },
];

/** Elements of `type` spanning its range: the extremes first, then a pattern. */
function elements(type: NdElementType, count: number): NumericArray {
  if (type === 'boolean') return Uint8Array.from({ length: count }, (_, i) => i % 2);
  const array = new TYPED_ARRAY[type](count) as unknown as { [index: number]: number | bigint };
  for (let i = 0; i < count; i++) {
    if (type === 'int64' || type === 'uint64') {
      array[i] = i === 0 ? (type === 'int64' ? -(2n ** 63n) : 2n ** 64n - 1n) : BigInt(i * 7919);
    } else if (type.startsWith('float')) {
      array[i] = i === 0 ? -Infinity : i * 1.5 - 3;
    } else {
      array[i] = i === 0 ? -1 : i * 7919;
    }
  }
  return array as unknown as NumericArray;
}

function image(type: NdElementType, dimensions: readonly number[], uniqueId: number): NdArrayValue {
  const count = dimensions.reduce((product, size) => product * size, 1);
  return {
    kind: 'ndarray',
    type,
    data: elements(type, count),
    dimensions,
    uniqueId,
    codec: '',
    attributes: ATTRIBUTES,
  };
}

const dataTypeOf = (type: NdElementType): ArrayDataType => (type === 'boolean' ? 'uint8' : type);
const shapeOf = (dimensions: readonly number[]): BigInt64Array =>
  BigInt64Array.from([...dimensions].reverse(), BigInt);

function attributeBytes(value: NdAttribute['value']): { type: ArrayDataType; bytes: Uint8Array } {
  switch (value.kind) {
    case 'string':
      return { type: 'c_string', bytes: new TextEncoder().encode(value.value) };
    case 'array':
      return { type: value.type, bytes: bytesOf(value.value).slice() };
    case 'scalar': {
      const one = new TYPED_ARRAY[value.type](1) as unknown as { [index: number]: number | bigint };
      one[0] = value.value;
      return { type: value.type, bytes: bytesOf(one as unknown as NumericArray).slice() };
    }
  }
}

function expectedAd00(value: NdArrayValue): Ad00Message {
  return {
    sourceName: SOURCE,
    uniqueId: value.uniqueId,
    timestampNs: T,
    dimensions: shapeOf(value.dimensions),
    dataType: ARRAY_DATA_TYPES.indexOf(dataTypeOf(value.type)),
    data: bytesOf(value.data).slice(),
    attributes: value.attributes.map((attribute) => {
      const { type, bytes } = attributeBytes(attribute.value);
      return {
        name: attribute.name,
        description: attribute.description,
        source: attribute.source,
        dataType: ARRAY_DATA_TYPES.indexOf(type),
        data: bytes,
      };
    }),
  };
}

const AXES = ['x', 'y', 'z'];

function expectedDa00(value: NdArrayValue): Da00Message {
  const scalarVariable = (
    name: string,
    type: ArrayDataType,
    bytes: Uint8Array,
    label: string,
    source: string,
  ) => ({
    name,
    ...(label === '' ? {} : { label }),
    ...(source === '' ? {} : { source }),
    dataType: ARRAY_DATA_TYPES.indexOf(type) + 1,
    axes: [],
    shape: BigInt64Array.of(
      BigInt(type === 'c_string' ? bytes.length : bytes.length / TYPED_ARRAY[type].BYTES_PER_ELEMENT),
    ),
    data: bytes,
  });
  const signal: Da00Variable = {
    name: 'signal',
    dataType: ARRAY_DATA_TYPES.indexOf(dataTypeOf(value.type)) + 1,
    axes: value.dimensions.map((_, i) => AXES[i] ?? '').reverse(),
    shape: shapeOf(value.dimensions),
    data: bytesOf(value.data).slice(),
  };
  return {
    sourceName: SOURCE,
    timestampNs: T,
    variables: [
      signal,
      scalarVariable('unique_id', 'int32', bytesOf(Int32Array.of(value.uniqueId)), '', ''),
      ...value.attributes.map((attribute) => {
        const { type, bytes } = attributeBytes(attribute.value);
        return scalarVariable(attribute.name, type, bytes, attribute.description, attribute.source);
      }),
    ],
  };
}

export function imageCases(): CrossCheckCase[] {
  const types: NdElementType[] = [...NUMERIC_TYPES, 'boolean'];
  return types.flatMap((type, i) =>
    DIMENSIONS.flatMap((dimensions, rank) => {
      const value = image(type, dimensions, i * 3 + rank - 2);
      const name = `${type}[${dimensions.join('x')}]`;
      return [
        {
          name: `ad00 ${name}`,
          message: { schema: 'ad00', message: expectedAd00(value) },
          bytes: new Ad00Serialiser(SOURCE).serialise(value, T),
          pythonCanProduce: true,
        },
        {
          name: `da00 ${name}`,
          message: { schema: 'da00', message: expectedDa00(value) },
          bytes: new Da00Serialiser(SOURCE).serialise(value, T),
          pythonCanProduce: true,
        },
      ] satisfies CrossCheckCase[];
    }),
  );
}

/** A number as reference.py writes and reads it: integers in decimal, floats as "f:" + float64 bits. */
export function pythonNumber(type: ArrayDataType, value: number | bigint): string {
  if (type === 'float32' || type === 'float64') {
    return `f:${Buffer.from(Float64Array.of(Number(value)).buffer).toString('hex')}`;
  }
  return String(value);
}

function typedView(type: ArrayDataType, bytes: Uint8Array): (number | bigint)[] {
  if (type === 'c_string') return [];
  const array: NumericArray = new TYPED_ARRAY[type](bytes.length / TYPED_ARRAY[type].BYTES_PER_ELEMENT);
  bytesOf(array).set(bytes);
  return Array.from(array as ArrayLike<number | bigint>);
}

/** numpy's tolist() of the flat elements in `shape`: nested lists, C order. */
function nested(flat: readonly string[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return flat;
  const [first = 0, ...rest] = shape;
  const step = flat.length / first;
  return Array.from({ length: first }, (_, i) => nested(flat.slice(i * step, (i + 1) * step), rest));
}

/** What the reference reader makes of a value: a string, a single number, or an array {dtype, data}. */
function pythonData(type: ArrayDataType, bytes: Uint8Array, shape?: readonly number[]): unknown {
  if (type === 'c_string') return Buffer.from(bytes).toString();
  const flat = typedView(type, bytes).map((element) => pythonNumber(type, element));
  if (shape === undefined && flat.length === 1) return flat[0];
  return { dtype: type, data: nested(flat, shape ?? [flat.length]) };
}

const typeOfAd00 = (dataType: number): ArrayDataType => ARRAY_DATA_TYPES[dataType] ?? 'int8';
const typeOfDa00 = (dataType: number): ArrayDataType => ARRAY_DATA_TYPES[dataType - 1] ?? 'int8';

/** What reference.py reports for the reference deserialiser's output on an ad00 or da00 buffer. */
export function imagePythonView(message: Ad00Message | Da00Message): { decoded: unknown } {
  if ('dimensions' in message) {
    const shape = Array.from(message.dimensions, Number);
    return {
      decoded: {
        source_name: message.sourceName,
        unique_id: String(message.uniqueId),
        timestamp_ns: String(message.timestampNs),
        dimensions: shape.map(String),
        data: pythonData(typeOfAd00(message.dataType), message.data, shape),
        attributes: message.attributes.map((attribute) => ({
          name: attribute.name,
          description: attribute.description,
          source: attribute.source,
          data: pythonData(typeOfAd00(attribute.dataType), attribute.data),
        })),
      },
    };
  }
  return {
    decoded: {
      source_name: message.sourceName,
      timestamp_ns: String(message.timestampNs),
      data: message.variables.map((variable) => {
        const shape = Array.from(variable.shape, Number);
        return {
          name: variable.name,
          unit: variable.unit ?? null,
          label: variable.label ?? null,
          source: variable.source ?? null,
          axes: variable.axes,
          shape: shape.map(String),
          data: pythonData(
            typeOfDa00(variable.dataType),
            variable.data,
            variable.axes.length > 0 ? shape : undefined,
          ),
        };
      }),
    },
  };
}

/** A value as a reference.py argument: a string, or a numpy array of its type and shape. */
function pythonArgument(type: ArrayDataType, bytes: Uint8Array, shape?: readonly number[]): unknown {
  if (type === 'c_string') return Buffer.from(bytes).toString();
  const data = typedView(type, bytes).map((element) => pythonNumber(type, element));
  return { np_shaped: { dtype: type, shape: shape ?? [data.length], data } };
}

/** The reference serialiser call that makes an ad00 or da00 message. */
export function imagePythonCall(message: Ad00Message | Da00Message): { fn: string; args: unknown[] } {
  if ('dimensions' in message) {
    return {
      fn: 'serialise_ad00',
      args: [
        message.sourceName,
        message.uniqueId,
        { num: String(message.timestampNs) },
        pythonArgument(typeOfAd00(message.dataType), message.data, Array.from(message.dimensions, Number)),
        message.attributes.map((attribute) => ({
          ad00_attribute: [
            attribute.name,
            attribute.description,
            attribute.source,
            pythonArgument(typeOfAd00(attribute.dataType), attribute.data),
          ],
        })),
      ],
    };
  }
  return {
    fn: 'serialise_da00',
    args: [
      message.sourceName,
      { num: String(message.timestampNs) },
      message.variables.map((variable) => ({
        da00_variable: {
          name: variable.name,
          unit: variable.unit ?? null,
          label: variable.label ?? null,
          source: variable.source ?? null,
          axes: variable.axes,
          shape: Array.from(variable.shape, Number),
          data: pythonArgument(
            typeOfDa00(variable.dataType),
            variable.data,
            Array.from(variable.shape, Number),
          ),
        },
      })),
    ],
  };
}
