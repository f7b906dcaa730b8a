/**
 * The array PVs the image benchmark's load server (pva-stream-server.ts) serves: NTNDArray frames of doubles, in
 * p4p's layout and with the attributes of the tests' p4p image server (test/env/pva/ntndarray_server.py), or
 * NTScalarArray doubles.
 */
import {
  anyDesc,
  scalarArrayDesc,
  scalarDesc,
  structure,
  type StructureDesc,
  union,
} from '../../../src/epics/pva/introspection.js';
import { type PvStructureData, PvUnion, PvVariant } from '../../../src/epics/pva/values.js';
import { alarmT, ntType, timeT } from '../pva-types.js';
import type { FakePv } from './pv.js';
import { FakePvaServer } from './server.js';

export type ArrayPvKind = 'ntndarray' | 'ntscalararray';

const NUMERIC_ARRAYS = {
  booleanValue: scalarArrayDesc.boolean,
  byteValue: scalarArrayDesc.int8,
  shortValue: scalarArrayDesc.int16,
  intValue: scalarArrayDesc.int32,
  longValue: scalarArrayDesc.int64,
  ubyteValue: scalarArrayDesc.uint8,
  ushortValue: scalarArrayDesc.uint16,
  uintValue: scalarArrayDesc.uint32,
  ulongValue: scalarArrayDesc.uint64,
  floatValue: scalarArrayDesc.float32,
  doubleValue: scalarArrayDesc.float64,
};

/** p4p's NTNDArray (p4p.nt.NTNDArray), its fields in p4p's order. */
export const NTNDARRAY_TYPE: StructureDesc = structure('epics:nt/NTNDArray:1.0', {
  value: union('', NUMERIC_ARRAYS),
  codec: structure('codec_t', { name: scalarDesc.string, parameters: anyDesc }),
  compressedSize: scalarDesc.int64,
  uncompressedSize: scalarDesc.int64,
  uniqueId: scalarDesc.int32,
  dataTimeStamp: timeT,
  alarm: alarmT,
  timeStamp: timeT,
  dimension: {
    kind: 'structureArray',
    element: structure('dimension_t', {
      size: scalarDesc.int32,
      offset: scalarDesc.int32,
      fullSize: scalarDesc.int32,
      binning: scalarDesc.int32,
      reverse: scalarDesc.boolean,
    }),
  },
  attribute: {
    kind: 'structureArray',
    element: structure('epics:nt/NTAttribute:1.0', {
      name: scalarDesc.string,
      value: anyDesc,
      tags: scalarArrayDesc.string,
      descriptor: scalarDesc.string,
      alarm: alarmT,
      timeStamp: timeT,
      sourceType: scalarDesc.int32,
      source: scalarDesc.string,
    }),
  },
});

const NO_ALARM = { severity: 0, status: 0, message: '' };
const NO_TIME = { secondsPastEpoch: 0n, nanoseconds: 0, userTag: 0 };

/** The attributes ntndarray_server.py gives its frames, as p4p sends them. */
const ATTRIBUTES = [
  ['ColorMode', new PvVariant(scalarDesc.int64, 0n)],
  ['AcquireTime', new PvVariant(scalarDesc.float64, 0.25)],
  ['Model', new PvVariant(scalarDesc.string, 'p4p détecteur ✓')],
] as const;

/** A one-dimensional NTNDArray frame of `data`, uniqueId 1, as p4p's NTNDArray.wrap makes it. */
function ndArrayFrame(data: Float64Array, timeStamp: PvStructureData): PvStructureData {
  const size = data.length;
  return {
    value: new PvUnion('doubleValue', scalarArrayDesc.float64, data),
    codec: { name: '', parameters: new PvVariant(null, null) },
    compressedSize: BigInt(data.byteLength),
    uncompressedSize: BigInt(data.byteLength),
    uniqueId: 1,
    dataTimeStamp: NO_TIME,
    alarm: NO_ALARM,
    timeStamp,
    dimension: [{ size, offset: 0, fullSize: size, binning: 1, reverse: false }],
    attribute: ATTRIBUTES.map(([name, value]) => ({
      name,
      value,
      tags: [],
      descriptor: '',
      alarm: NO_ALARM,
      timeStamp: NO_TIME,
      sourceType: 0,
      source: '',
    })),
  };
}

/**
 * A server answering searches on `searchPort` with `count` PVs of `elements` doubles each, named `prefix` + index:
 * NTNDArray frames or NTScalarArrays, whose count (the uniqueId, or the array's first element) starts at 1; the
 * other elements count up from 2.
 */
export async function startArrayPvServer(
  searchPort: number,
  count: number,
  prefix: string,
  kind: ArrayPvKind,
  elements: number,
): Promise<{ server: FakePvaServer; pvs: FakePv[] }> {
  const server = await FakePvaServer.start({ searchPort });
  const timeStamp = { secondsPastEpoch: BigInt(Math.floor(Date.now() / 1000)), nanoseconds: 0, userTag: 0 };
  const data = Float64Array.from({ length: elements }, (_, i) => i + 1);
  const type = kind === 'ntndarray' ? NTNDARRAY_TYPE : ntType(scalarArrayDesc.float64);
  const initial =
    kind === 'ntndarray'
      ? ndArrayFrame(data, timeStamp)
      : { value: data, alarm: { ...NO_ALARM, message: 'NO_ALARM' }, timeStamp };
  const pvs = Array.from({ length: count }, (_, i) => server.addPv(`${prefix}${i}`, type, initial));
  return { server, pvs };
}
