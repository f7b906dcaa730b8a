/** Shared by the schema tests: serialising any decoded message, and fast-check arbitraries for every schema. */
import fc from 'fast-check';
import type {
  NumericArray,
  NumericArrayValue,
  NumericScalarValue,
  NumericType,
} from '../../../src/model/update.js';
import { serialiseAd00 } from '../../../src/schemas/ad00.js';
import { serialiseAl00 } from '../../../src/schemas/al00.js';
import { serialiseDa00 } from '../../../src/schemas/da00.js';
import { serialiseEp00 } from '../../../src/schemas/ep00.js';
import { serialiseEp01 } from '../../../src/schemas/ep01.js';
import { serialiseF142 } from '../../../src/schemas/f142.js';
import { serialiseF144 } from '../../../src/schemas/f144.js';
import { serialiseFc00 } from '../../../src/schemas/fc00.js';
import type { F142Value, F144Value } from '../../../src/schemas/log-value.js';
import { NUMERIC_TYPES, TYPED_ARRAY } from '../../../src/schemas/numeric.js';
import type { DecodedMessage, FileIdentifier, MessageOf } from '../../../src/schemas/registry.js';
import { serialiseRf5k } from '../../../src/schemas/rf5k.js';
import { serialiseSe00 } from '../../../src/schemas/se00.js';
import { type IntegerArray, serialiseSenv } from '../../../src/schemas/senv.js';
import { serialiseTdct } from '../../../src/schemas/tdct.js';
import { serialiseX5f2 } from '../../../src/schemas/x5f2.js';

const SERIALISERS: { readonly [I in FileIdentifier]: (message: MessageOf[I]) => Uint8Array } = {
  f144: serialiseF144,
  f142: serialiseF142,
  al00: serialiseAl00,
  ep01: serialiseEp01,
  ep00: serialiseEp00,
  tdct: serialiseTdct,
  se00: serialiseSe00,
  senv: serialiseSenv,
  ad00: serialiseAd00,
  da00: serialiseDa00,
  x5f2: serialiseX5f2,
  fc00: serialiseFc00,
  rf5k: serialiseRf5k,
};

export function serialiseDecoded(decoded: DecodedMessage): Uint8Array {
  return (SERIALISERS[decoded.schema] as (message: DecodedMessage['message']) => Uint8Array)(decoded.message);
}

/** The same bytes at byteOffset `offset` of a larger buffer, as in a consumed Kafka batch. */
export function atOffset(bytes: Uint8Array, offset: number): Uint8Array {
  const batch = new Uint8Array(offset + bytes.length + 3).fill(0xa5);
  batch.set(bytes, offset);
  return batch.subarray(offset, offset + bytes.length);
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const int16 = fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 });
const uint16 = fc.integer({ min: 0, max: 2 ** 16 - 1 });

/** Any valid Unicode text, including non-ASCII and, now and then, long PV-name-like strings. */
export const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 200, maxLength: 600 }) },
);

/** Values of each numeric type, as the value model carries them (number, or bigint for 64-bit integers). */
export const ELEMENT: { readonly [T in NumericType]: fc.Arbitrary<number | bigint> } = {
  int8: fc.integer({ min: -128, max: 127 }),
  uint8: fc.integer({ min: 0, max: 255 }),
  int16,
  uint16,
  int32,
  uint32,
  int64,
  uint64,
  float32: fc.float(),
  float64: fc.double(),
};

export const numericType = fc.constantFrom(...NUMERIC_TYPES);

export function typedArrayOf(type: NumericType, maxLength = 12, minLength = 0): fc.Arbitrary<NumericArray> {
  return fc.array(ELEMENT[type], { minLength, maxLength }).map((elements) => {
    const array = new TYPED_ARRAY[type](elements.length);
    elements.forEach((element, i) => ((array as unknown as (number | bigint)[])[i] = element));
    return array;
  });
}

export const scalarValue: fc.Arbitrary<NumericScalarValue> = numericType.chain((type) =>
  ELEMENT[type].map((value) => ({ kind: 'scalar', type, value }) as NumericScalarValue),
);

export const arrayValue: fc.Arbitrary<NumericArrayValue> = numericType.chain((type) =>
  typedArrayOf(type).map((value) => ({ kind: 'array', type, value }) as NumericArrayValue),
);

/**
 * A scalar as it reads back from a schema that omits default values: the Builder compares with `!=`, so -0
 * equals the default 0 and is omitted, reading back as +0 (Python's builder does the same).
 */
export function asReadBack(value: NumericScalarValue): NumericScalarValue {
  return Object.is(value.value, -0) ? ({ ...value, value: 0 } as NumericScalarValue) : value;
}

const f144Value: fc.Arbitrary<F144Value> = fc.oneof(scalarValue.map(asReadBack), arrayValue);

const f142Value: fc.Arbitrary<F142Value> = fc.oneof(
  scalarValue,
  arrayValue,
  text.map((value) => ({ kind: 'string', value }) as const),
  fc.array(text, { maxLength: 6 }).map((value) => ({ kind: 'stringArray', value }) as const),
);

/** fc.record with ordinary object prototypes, so records compare equal to decoded messages. */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;

const optional = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arbitrary, { nil: undefined });

/** Drops undefined properties, so messages compare equal to decoded ones, which omit absent fields. */
function withoutUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

const integerArray: fc.Arbitrary<IntegerArray> = fc
  .constantFrom(...NUMERIC_TYPES.filter((type) => !type.startsWith('float')))
  .chain((type) => typedArrayOf(type) as fc.Arbitrary<IntegerArray>);

const sampleFields = {
  sourceName: text,
  channel: int32,
  timeDeltaNs: fc.double().map((delta) => (Object.is(delta, -0) ? 0 : delta)),
  timestampLocation: fc.integer({ min: -128, max: 127 }),
};

const streamFields = { channel: text, schema: text, topic: text, protocol: uint16 };

const bytes = fc.uint8Array({ maxLength: 40 });
/** Now and then longer than the largest alignment period, so the array's padding varies too. */
const arrayBytes = fc.oneof(bytes, fc.uint8Array({ minLength: 100, maxLength: 300 }));
const shape = fc.array(int64, { maxLength: 4 }).map((sizes) => BigInt64Array.from(sizes));
const int8 = fc.integer({ min: -128, max: 127 });

const ad00Attribute = record({
  name: text,
  description: text,
  source: text,
  dataType: int8,
  data: bytes,
});

const da00Variable = record({
  name: text,
  unit: optional(text),
  label: optional(text),
  source: optional(text),
  dataType: int8,
  axes: fc.array(text, { maxLength: 4 }),
  shape,
  data: arrayBytes,
}).map(withoutUndefined);

/** Arbitrary messages of each schema, covering every field's full range. */
export const MESSAGE: { readonly [I in FileIdentifier]: fc.Arbitrary<MessageOf[I]> } = {
  f144: record({ sourceName: text, timestampNs: int64, value: f144Value }),
  f142: record({
    sourceName: text,
    timestampNs: uint64,
    value: f142Value,
    alarmStatus: fc.integer({ min: 0, max: 22 }),
    alarmSeverity: fc.integer({ min: 0, max: 4 }),
  }),
  al00: record({ sourceName: text, timestampNs: int64, severity: int16, message: text }),
  ep01: record({ sourceName: text, timestampNs: int64, status: int16, serviceId: optional(text) }).map(
    withoutUndefined,
  ),
  ep00: record({ sourceName: text, timestampNs: uint64, type: uint16, serviceId: optional(text) }).map(
    withoutUndefined,
  ),
  tdct: record({
    sourceName: text,
    timestampsNs: typedArrayOf('uint64') as fc.Arbitrary<BigUint64Array>,
    sequenceCounter: optional(uint64),
  }).map(withoutUndefined),
  se00: record({
    ...sampleFields,
    packetTimestampNs: int64,
    values: numericType.chain((type) => typedArrayOf(type)),
    timestampsNs: optional(typedArrayOf('int64') as fc.Arbitrary<BigInt64Array>),
    messageCounter: int64,
  }).map(withoutUndefined),
  senv: record({
    ...sampleFields,
    packetTimestampNs: uint64,
    values: integerArray,
    timestampsNs: optional(typedArrayOf('uint64') as fc.Arbitrary<BigUint64Array>),
    messageCounter: uint64,
  }).map(withoutUndefined),
  ad00: record({
    sourceName: text,
    uniqueId: int32,
    timestampNs: int64,
    dimensions: shape,
    dataType: int8,
    data: arrayBytes,
    attributes: fc.array(ad00Attribute, { maxLength: 4 }),
  }),
  da00: record({
    sourceName: text,
    timestampNs: uint64,
    variables: fc.array(da00Variable, { minLength: 1, maxLength: 4 }),
  }),
  x5f2: record({
    softwareName: text,
    softwareVersion: text,
    serviceId: text,
    hostName: text,
    processId: uint32,
    updateIntervalMs: uint32,
    statusJson: text,
  }),
  fc00: record({
    configChange: uint16,
    streams: fc.array(record({ ...streamFields, periodic: int32 }), { maxLength: 5 }),
  }),
  rf5k: record({ configChange: uint16, streams: fc.array(record(streamFields), { maxLength: 5 }) }),
};

/** An arbitrary message of any schema, tagged with its schema. */
export const anyMessage: fc.Arbitrary<DecodedMessage> = fc.oneof(
  ...(Object.keys(MESSAGE) as FileIdentifier[]).map((schema) =>
    (MESSAGE[schema] as fc.Arbitrary<DecodedMessage['message']>).map(
      (message) => ({ schema, message }) as DecodedMessage,
    ),
  ),
);
