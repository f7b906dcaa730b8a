import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BitSet } from '../../../src/epics/pva/bitset.js';
import {
  type FieldDesc,
  type StructureDesc,
  TypeRegistry,
  anyDesc,
  scalarArrayDesc,
  scalarDesc,
  structure,
  union,
} from '../../../src/epics/pva/introspection.js';
import { NormativeMapper } from '../../../src/epics/pva/normative.js';
import type { ScalarType } from '../../../src/epics/pva/protocol.js';
import { type PvStructureData, PvUnion, PvVariant } from '../../../src/epics/pva/values.js';
import {
  StructureLayout,
  StructureStore,
  decodeDelta,
  encodeDelta,
} from '../../../src/epics/pva/structure.js';
import { WireReader, WireWriter } from '../../../src/epics/pva/wire.js';
import type { PvUpdate } from '../../../src/model/update.js';
import { alarmT, timeT } from '../../support/pva-types.js';

function nt(id: string, value: FieldDesc, extra: Record<string, FieldDesc> = {}): StructureDesc {
  return structure(id, { value, alarm: alarmT, timeStamp: timeT, ...extra });
}

/** A store and mapper for `type`, with `apply(data, bits)` sending a delta through the real codec. */
function monitor(type: StructureDesc): {
  apply(data: PvStructureData, bits?: number[]): PvUpdate | undefined;
  mapper: NormativeMapper;
} {
  const layout = new StructureLayout(type);
  const store = new StructureStore(layout);
  const mapper = new NormativeMapper(layout);
  return {
    mapper,
    apply(data, bits = [0]) {
      const writer = new WireWriter(true);
      encodeDelta(writer, layout, data, new BitSet().assign(bits));
      decodeDelta(new WireReader(writer.take()), store, new TypeRegistry(), new BitSet(), new BitSet());
      return mapper.map(store);
    },
  };
}

const stamp = { secondsPastEpoch: 1_700_000_000n, nanoseconds: 123_456_789, userTag: 0 };
const alarm = { severity: 1, status: 1, message: 'HIGH' };

describe('NTScalar and NTScalarArray of every scalar type', () => {
  const samples: Record<ScalarType, [unknown, unknown]> = {
    boolean: [true, [true, false]],
    int8: [-5, new Int8Array([-5, 5])],
    int16: [-300, new Int16Array([-300, 300])],
    int32: [-70000, new Int32Array([-70000, 70000])],
    int64: [-5_000_000_000n, new BigInt64Array([-5_000_000_000n, 1n])],
    uint8: [255, new Uint8Array([255, 0])],
    uint16: [65535, new Uint16Array([65535, 1])],
    uint32: [4_000_000_000, new Uint32Array([4_000_000_000, 1])],
    uint64: [18_446_744_073_709_551_615n, new BigUint64Array([18_446_744_073_709_551_615n])],
    float32: [0.5, new Float32Array([0.5, -1.5])],
    float64: [Math.PI, new Float64Array([Math.PI, -0])],
    string: ['text', ['a', 'bb']],
  };

  for (const [type, [scalar, array]] of Object.entries(samples) as [ScalarType, [unknown, unknown]][]) {
    it(`maps ${type}`, () => {
      const scalarUpdate = monitor(nt('epics:nt/NTScalar:1.0', scalarDesc[type])).apply({
        value: scalar as never,
        alarm,
        timeStamp: stamp,
      });
      const arrayUpdate = monitor(nt('epics:nt/NTScalarArray:1.0', scalarArrayDesc[type])).apply({
        value: array as never,
        alarm,
        timeStamp: stamp,
      });
      if (type === 'string') {
        assert.deepEqual(scalarUpdate?.value, { kind: 'string', value: scalar });
        assert.deepEqual(arrayUpdate?.value, { kind: 'stringArray', value: array });
      } else if (type === 'boolean') {
        assert.deepEqual(scalarUpdate?.value, { kind: 'boolean', value: scalar });
        assert.deepEqual(arrayUpdate?.value, { kind: 'booleanArray', value: array });
      } else {
        assert.deepEqual(scalarUpdate?.value, { kind: 'scalar', type, value: scalar });
        assert.deepEqual(arrayUpdate?.value, { kind: 'array', type, value: array });
      }
      assert.deepEqual(scalarUpdate?.alarm, alarm);
      assert.equal(scalarUpdate?.timestampNs, 1_700_000_000_123_456_789n);
    });
  }
});

describe('metadata', () => {
  it('gives the exact ns timestamp, the alarm verbatim, and display units and precision', () => {
    const type = nt('epics:nt/NTScalar:1.0', scalarDesc.float64, {
      display: structure('display_t', {
        limitLow: scalarDesc.float64,
        units: scalarDesc.string,
        precision: scalarDesc.int32,
      }),
    });
    const m = monitor(type);
    const first = m.apply({
      value: 1,
      alarm: { severity: 2, status: 1, message: 'HIHI' },
      timeStamp: { secondsPastEpoch: 9_007_199_254n, nanoseconds: 999_999_999, userTag: 0 },
      display: { limitLow: 0, units: 'mA', precision: 3 },
    });
    assert.equal(first?.timestampNs, 9_007_199_254_999_999_999n);
    assert.deepEqual(first?.alarm, { severity: 2, status: 1, message: 'HIHI' });
    assert.deepEqual(first?.display, { units: 'mA', precision: 3 });
    // A units-only delta keeps the value and changes display.units.
    const second = m.apply({ display: { units: 'A' } } as never, [12]);
    assert.equal(second?.value, first?.value);
    assert.deepEqual(second?.display, { units: 'A', precision: 3 });
  });

  it('takes timestamp fields of other types than the standard ones without failing', () => {
    const timeOf = (secondsPastEpoch: FieldDesc, nanoseconds: FieldDesc) =>
      structure('epics:nt/NTScalar:1.0', {
        value: scalarDesc.int32,
        timeStamp: structure('time_t', { secondsPastEpoch, nanoseconds }),
      });
    const fractional = monitor(timeOf(scalarDesc.float64, scalarDesc.float64)).apply({
      value: 1,
      timeStamp: { secondsPastEpoch: 1_700_000_000.75, nanoseconds: 5.5 },
    });
    assert.equal(fractional?.timestampNs, 1_700_000_000_000_000_005n, 'fractions cut off');
    const nonsense = monitor(timeOf(scalarDesc.float64, scalarDesc.string)).apply({
      value: 1,
      timeStamp: { secondsPastEpoch: NaN, nanoseconds: 'soon' },
    });
    assert.equal(nonsense?.timestampNs, 0n, 'no finite number: 0');
  });

  it('uses NO_ALARM and timestamp 0 when the structure has no alarm or timeStamp, and no display', () => {
    const update = monitor(structure('', { value: scalarDesc.int32 })).apply({ value: 7 });
    assert.deepEqual(update, {
      value: { kind: 'scalar', type: 'int32', value: 7 },
      timestampNs: 0n,
      alarm: { severity: 0, status: 0, message: '' },
    });
  });

  it('finds fields by name whatever their order and ignores extra fields', () => {
    const type = structure('epics:nt/NTScalar:1.0', {
      timeStamp: timeT,
      extra: structure('', { a: scalarDesc.int8 }),
      alarm: alarmT,
      value: scalarDesc.uint16,
    });
    const update = monitor(type).apply({ timeStamp: stamp, extra: { a: 1 }, alarm, value: 9 });
    assert.deepEqual(update?.value, { kind: 'scalar', type: 'uint16', value: 9 });
    assert.deepEqual(update?.alarm, alarm);
  });
});

describe('NTEnum', () => {
  it('maps index and choices, and an index-only delta keeps the choices', () => {
    const enumT = structure('enum_t', { index: scalarDesc.int32, choices: scalarArrayDesc.string });
    const m = monitor(nt('epics:nt/NTEnum:1.0', enumT));
    const first = m.apply({ value: { index: 1, choices: ['Off', 'On'] }, alarm, timeStamp: stamp });
    assert.deepEqual(first?.value, { kind: 'enum', index: 1, choices: ['Off', 'On'] });
    const second = m.apply({ value: { index: 0 } } as never, [2]);
    assert.deepEqual(second?.value, { kind: 'enum', index: 0, choices: ['Off', 'On'] });
    assert.equal(
      second?.value.kind === 'enum' && second.value.choices,
      first?.value.kind === 'enum' && first.value.choices,
    );
  });
});

describe('NTTable', () => {
  const type = structure('epics:nt/NTTable:1.0', {
    labels: scalarArrayDesc.string,
    value: structure('', {
      ts: scalarArrayDesc.uint64,
      v: scalarArrayDesc.float64,
      name: scalarArrayDesc.string,
    }),
    alarm: alarmT,
    timeStamp: timeT,
  });

  it('maps columns by label, in label order', () => {
    const update = monitor(type).apply({
      labels: ['timestamp', 'value', 'name'],
      value: { ts: new BigUint64Array([1n, 2n]), v: new Float64Array([0.5, 1.5]), name: ['a', 'b'] },
      alarm,
      timeStamp: stamp,
    });
    assert.equal(update?.value.kind, 'table');
    const columns = update?.value.kind === 'table' ? update.value.columns : new Map();
    assert.deepEqual([...columns.keys()], ['timestamp', 'value', 'name']);
    assert.deepEqual(columns.get('value'), {
      kind: 'array',
      type: 'float64',
      value: new Float64Array([0.5, 1.5]),
    });
    assert.deepEqual(columns.get('name'), { kind: 'stringArray', value: ['a', 'b'] });
  });

  it('rebuilds the columns when only the labels change, and names unlabelled columns by field', () => {
    const m = monitor(type);
    m.apply({
      labels: ['a'],
      value: { ts: new BigUint64Array([1n]), v: new Float64Array([2]), name: ['x'] },
      alarm,
      timeStamp: stamp,
    });
    const update = m.apply({ labels: ['A', 'B'] } as never, [1]);
    const columns = update?.value.kind === 'table' ? update.value.columns : new Map();
    assert.deepEqual([...columns.keys()], ['A', 'B', 'name']);
  });
});

describe('values held in unions and variant unions', () => {
  it('maps the selected member of a union (NTNDArray-style) and of a variant', () => {
    const arrays = union('', { doubleValue: scalarArrayDesc.float64, shortValue: scalarArrayDesc.int16 });
    const u = monitor(nt('epics:nt/NTNDArray:1.0', arrays)).apply({
      value: new PvUnion('shortValue', scalarArrayDesc.int16, new Int16Array([1, 2])),
      alarm,
      timeStamp: stamp,
    });
    assert.deepEqual(u?.value, { kind: 'array', type: 'int16', value: new Int16Array([1, 2]) });
    const v = monitor(nt('', anyDesc)).apply({
      value: new PvVariant(scalarDesc.string, 'inside'),
      alarm,
      timeStamp: stamp,
    });
    assert.deepEqual(v?.value, { kind: 'string', value: 'inside' });
  });

  it('returns undefined for an empty union', () => {
    const m = monitor(nt('', anyDesc));
    assert.equal(m.apply({ value: new PvVariant(null, null), alarm, timeStamp: stamp }), undefined);
  });
});

describe('unsupported structures', () => {
  it('explains why a structure without a usable value cannot be mapped', () => {
    assert.match(monitor(structure('', { x: scalarDesc.int32 })).mapper.unsupported ?? '', /no "value"/);
    assert.match(
      monitor(structure('', { value: structure('custom', { a: scalarDesc.int32 }) })).mapper.unsupported ??
        '',
      /structure \(custom\)/,
    );
    const structArray = monitor(structure('', { value: { kind: 'structureArray', element: alarmT } }));
    assert.match(structArray.mapper.unsupported ?? '', /structureArray/);
    assert.equal(structArray.apply({ value: [] }), undefined);
  });
});

describe('NTNDArray frames that repeat their dimensions and attributes', () => {
  const type = nt('epics:nt/NTNDArray:1.0', union('', { doubleValue: scalarArrayDesc.float64 }), {
    uniqueId: scalarDesc.int32,
    dimension: { kind: 'structureArray', element: structure('dimension_t', { size: scalarDesc.int32 }) },
    attribute: {
      kind: 'structureArray',
      element: structure('epics:nt/NTAttribute:1.0', {
        name: scalarDesc.string,
        value: anyDesc,
        descriptor: scalarDesc.string,
        source: scalarDesc.string,
      }),
    },
  });
  const frame = (uniqueId: number, model: string, gain: number): PvStructureData => ({
    value: new PvUnion('doubleValue', scalarArrayDesc.float64, Float64Array.of(uniqueId, 2)),
    uniqueId,
    alarm,
    timeStamp: stamp,
    dimension: [{ size: 2 }],
    attribute: [
      { name: 'Model', value: new PvVariant(scalarDesc.string, model), descriptor: '', source: '' },
      { name: 'Gain', value: new PvVariant(scalarDesc.float64, gain), descriptor: 'gain', source: 'G' },
    ],
  });
  const attributesOf = (update: PvUpdate | undefined) =>
    update?.value.kind === 'ndarray' ? update.value.attributes : undefined;

  it('decodes repeated attributes once, and each change (of the same length or not) anew', () => {
    const { apply } = monitor(type);
    const first = apply(frame(1, 'cam', 0.5));
    const repeated = apply(frame(2, 'cam', 0.5));
    assert.equal(attributesOf(repeated), attributesOf(first), 'the same bytes give the same value');
    const sameLength = apply(frame(3, 'cam', 0.75));
    const longer = apply(frame(4, 'camera', 0.75));
    const back = apply(frame(5, 'cam', 0.5));
    const values = [first, repeated, sameLength, longer, back].map((update) =>
      attributesOf(update)?.map((attribute) => attribute.value),
    );
    assert.deepEqual(values, [
      [
        { kind: 'string', value: 'cam' },
        { kind: 'scalar', type: 'float64', value: 0.5 },
      ],
      [
        { kind: 'string', value: 'cam' },
        { kind: 'scalar', type: 'float64', value: 0.5 },
      ],
      [
        { kind: 'string', value: 'cam' },
        { kind: 'scalar', type: 'float64', value: 0.75 },
      ],
      [
        { kind: 'string', value: 'camera' },
        { kind: 'scalar', type: 'float64', value: 0.75 },
      ],
      [
        { kind: 'string', value: 'cam' },
        { kind: 'scalar', type: 'float64', value: 0.5 },
      ],
    ]);
    assert.deepEqual(
      [first, back].map((update) => (update?.value.kind === 'ndarray' ? update.value.uniqueId : 0)),
      [1, 5],
    );
  });
});
