import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitSet } from '../../../src/epics/pva/bitset.js';
import {
  type FieldDesc,
  type StructureDesc,
  TypeRegistry,
  anyArrayDesc,
  anyDesc,
  decodeFieldDesc,
  scalarArrayDesc,
  scalarDesc,
  structure,
  union,
  encodeFieldDesc,
} from '../../../src/epics/pva/introspection.js';
import type { ScalarType } from '../../../src/epics/pva/protocol.js';
import {
  type PvData,
  type PvStructureData,
  PvUnion,
  PvVariant,
  defaultData,
  decodeData,
  encodeData,
} from '../../../src/epics/pva/values.js';
import {
  StructureLayout,
  StructureStore,
  decodeDelta,
  encodeDelta,
} from '../../../src/epics/pva/structure.js';
import { PvaProtocolError, WireReader, WireWriter } from '../../../src/epics/pva/wire.js';
import { ntType } from '../../support/pva-types.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

const ntScalar = ntType(scalarDesc.float64);

function applyDelta(store: StructureStore, bytes: Buffer, littleEndian = true): number[] {
  const changed = new BitSet();
  const reader = new WireReader(bytes, littleEndian);
  decodeDelta(reader, store, new TypeRegistry(), changed, new BitSet());
  assert.equal(reader.remaining, 0, 'delta fully consumed');
  return changed.toArray();
}

describe('structure layout (bit numbering)', () => {
  it('numbers nodes depth-first with subtree ends', () => {
    const layout = new StructureLayout(ntScalar);
    assert.deepEqual(
      layout.nodes.map((n) => [n.path, n.end]),
      [
        ['', 10],
        ['value', 2],
        ['alarm', 6],
        ['alarm.severity', 4],
        ['alarm.status', 5],
        ['alarm.message', 6],
        ['timeStamp', 10],
        ['timeStamp.secondsPastEpoch', 8],
        ['timeStamp.nanoseconds', 9],
        ['timeStamp.userTag', 10],
      ],
    );
  });
});

describe('partial values merged into the last full value', () => {
  it('starts from type defaults and merges a first update that carries only some leaves', () => {
    const store = new StructureStore(new StructureLayout(ntScalar));
    // changed {1, 5}: value 2.5 and alarm.message "HIHI"
    applyDelta(store, hex('01 22  0000000000000440  04 48494849  00'));
    assert.deepEqual(store.toData(), {
      value: 2.5,
      alarm: { severity: 0, status: 0, message: 'HIHI' },
      timeStamp: { secondsPastEpoch: 0n, nanoseconds: 0, userTag: 0 },
    });
  });

  it('decodes a set structure bit as its whole subtree and skips its children’s bits', () => {
    const store = new StructureStore(new StructureLayout(ntScalar));
    // changed {2, 3, 4}: alarm in full (severity 2, status 1, "HIHI"); bits 3 and 4 must not be read again.
    const changed = applyDelta(store, hex('01 1c  02000000 01000000 04 48494849  00'));
    assert.deepEqual(changed, [2, 3, 4]);
    assert.deepEqual(store.toData(), {
      value: 0,
      alarm: { severity: 2, status: 1, message: 'HIHI' },
      timeStamp: { secondsPastEpoch: 0n, nanoseconds: 0, userTag: 0 },
    });
  });

  it('decodes bit 0 as the whole structure, in either byte order', () => {
    const value: PvStructureData = {
      value: -1.25,
      alarm: { severity: 1, status: 3, message: 'LOW' },
      timeStamp: { secondsPastEpoch: 1_795_472_099n, nanoseconds: 47_149_809, userTag: 7 },
    };
    for (const littleEndian of [true, false]) {
      const writer = new WireWriter(littleEndian);
      encodeDelta(writer, new StructureLayout(ntScalar), value, new BitSet().assign([0]));
      const store = new StructureStore(new StructureLayout(ntScalar));
      applyDelta(store, writer.take(), littleEndian);
      assert.deepEqual(store.toData(), value);
    }
  });

  it('marks what changed in each delta and keeps the rest', () => {
    const store = new StructureStore(new StructureLayout(ntScalar));
    applyDelta(store, hex('01 02  0000000000000040  00'));
    assert.ok(store.changedInRange(1, 2));
    applyDelta(store, hex('01 20  02 4f4b 00'));
    assert.equal(store.changedInRange(1, 2), false);
    assert.ok(store.changedInRange(2, 6));
    assert.equal((store.toData() as { value: number }).value, 2);
  });

  it('ignores bits past the last field (byte padding) and counts overrun bits', () => {
    const store = new StructureStore(new StructureLayout(ntScalar));
    applyDelta(store, hex('02 02 f0  000000000000f03f  02 02 01'));
    assert.equal((store.toData() as { value: number }).value, 1);
    assert.equal(store.lastOverrunCount, 2);
  });

  it('rejects a delta that is shorter than its bits say', () => {
    const store = new StructureStore(new StructureLayout(ntScalar));
    assert.throws(() => applyDelta(store, hex('01 02 0000')), PvaProtocolError);
  });
});

describe('compound types (unions, variants, structure arrays)', () => {
  const point = structure('point', { x: scalarDesc.int16, label: scalarDesc.string });
  const choice = union('', {
    number: scalarDesc.float32,
    text: scalarDesc.string,
    points: scalarArrayDesc.int8,
  });
  const type = structure('compound', {
    nested: structure('', { inner: structure('', { deep: scalarDesc.uint64 }) }),
    choice,
    variant: anyDesc,
    points: { kind: 'structureArray', element: point },
    choices: { kind: 'unionArray', element: choice },
    variants: anyArrayDesc,
  });

  const value: PvStructureData = {
    nested: { inner: { deep: 18_446_744_073_709_551_615n } },
    choice: new PvUnion('text', scalarDesc.string, 'hello'),
    variant: new PvVariant(scalarArrayDesc.float64, new Float64Array([1.5, -2])),
    points: [{ x: -3, label: 'a' }, null, { x: 32767, label: '' }],
    choices: [new PvUnion('number', scalarDesc.float32, 0.5), null, new PvUnion(null, null, null)],
    variants: [new PvVariant(point, { x: 1, label: 'p' }), null, new PvVariant(null, null)],
  };

  for (const littleEndian of [true, false]) {
    it(`round-trips type and value (${littleEndian ? 'little' : 'big'}-endian)`, () => {
      const writer = new WireWriter(littleEndian);
      encodeFieldDesc(writer, type);
      encodeData(writer, type, value);
      const reader = new WireReader(writer.take(), littleEndian);
      const registry = new TypeRegistry();
      const decodedType = decodeFieldDesc(reader, registry);
      assert.deepEqual(decodedType, type);
      assert.deepEqual(decodeData(reader, decodedType as FieldDesc, registry), value);
      assert.equal(reader.remaining, 0);
    });
  }

  it('keeps union, variant and structure array fields as single leaves of the bit numbering', () => {
    const layout = new StructureLayout(type);
    assert.deepEqual(
      layout.nodes.map((n) => n.path),
      [
        '',
        'nested',
        'nested.inner',
        'nested.inner.deep',
        'choice',
        'variant',
        'points',
        'choices',
        'variants',
      ],
    );
    const writer = new WireWriter(true);
    encodeDelta(writer, layout, value, new BitSet().assign([4, 6]));
    const store = new StructureStore(layout);
    applyDelta(store, writer.take());
    assert.deepEqual(store.get(4), value['choice']);
    assert.deepEqual(store.get(6), value['points']);
    assert.deepEqual(store.get(5), new PvVariant(null, null));
  });

  it('rejects a union selector outside the union', () => {
    assert.throws(
      () => decodeData(new WireReader(hex('05')), choice, new TypeRegistry()),
      /selector 5 out of range/,
    );
  });

  it('gives defaults: 0, 0n, "", false, empty typed arrays and empty unions', () => {
    assert.deepEqual(defaultData(type), {
      nested: { inner: { deep: 0n } },
      choice: new PvUnion(null, null, null),
      variant: new PvVariant(null, null),
      points: [],
      choices: [],
      variants: [],
    });
    assert.ok(defaultData(scalarArrayDesc.uint16) instanceof Uint16Array);
  });
});

describe('introspection rejects what it cannot represent', () => {
  for (const [what, bytes] of [
    ['a fixed-size array', '38'],
    ['a bounded string', '70 05'],
    ['a reserved code', 'e5'],
    ['an unknown float width', '40'],
    ['a structure array of scalars', '88 22'],
    ['an undefined cache reference', 'fe 05 00'],
    ['a NULL cache definition', 'fd 01 00 ff'],
  ] as const) {
    it(`rejects ${what}`, () => {
      assert.throws(() => decodeFieldDesc(new WireReader(hex(bytes)), new TypeRegistry()), PvaProtocolError);
    });
  }

  it('stops at the nesting limit instead of recursing without bound', () => {
    const deep = Buffer.concat([...Array<Buffer>(40).fill(hex('80 00 01 01 61')), hex('22')]);
    assert.throws(() => decodeFieldDesc(new WireReader(deep), new TypeRegistry()), /nested too deeply/);
  });
});

/** Arbitrary type descriptions (bounded depth) and values of them. */
const scalarTypes: ScalarType[] = [
  'boolean',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float32',
  'float64',
  'string',
];
const names = fc.constantFrom('a', 'b', 'value', 'x_1', 'long_field_name');
const { type: typeArb } = fc.letrec<{ type: FieldDesc; structure: StructureDesc }>((tie) => ({
  type: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...scalarTypes).map((t) => scalarDesc[t]),
    fc.constantFrom(...scalarTypes).map((t) => scalarArrayDesc[t]),
    fc.constant(anyDesc),
    tie('structure'),
    tie('structure').map((element) => ({ kind: 'structureArray', element }) as FieldDesc),
    fc
      .uniqueArray(fc.record({ name: names, type: tie('type') }, { noNullPrototype: true }), {
        selector: (m) => m.name,
        minLength: 1,
        maxLength: 3,
      })
      .map((fields) => ({ kind: 'union', id: 'u', fields }) as FieldDesc),
  ),
  structure: fc
    .uniqueArray(fc.record({ name: names, type: tie('type') }, { noNullPrototype: true }), {
      selector: (m) => m.name,
      maxLength: 4,
    })
    .map((fields) => ({ kind: 'structure', id: 's', fields }) as StructureDesc),
}));

function valueArb(type: FieldDesc, depth = 0): fc.Arbitrary<PvData> {
  switch (type.kind) {
    case 'scalar':
      return scalarArb(type.type);
    case 'scalarArray':
      return scalarArrayArb(type.type);
    case 'structure':
      return fc.record(Object.fromEntries(type.fields.map((m) => [m.name, valueArb(m.type, depth + 1)])), {
        noNullPrototype: true,
      });
    case 'union':
      return fc.oneof(
        fc.constant(new PvUnion(null, null, null)),
        ...type.fields.map((m) => valueArb(m.type, depth + 1).map((v) => new PvUnion(m.name, m.type, v))),
      );
    case 'any':
      return fc.oneof(
        fc.constant(new PvVariant(null, null)),
        fc.constant(scalarDesc.int32).chain((t) => valueArb(t).map((v) => new PvVariant(t, v))),
        fc.constant(scalarArrayDesc.string).chain((t) => valueArb(t).map((v) => new PvVariant(t, v))),
      );
    case 'structureArray':
      return fc.array(fc.option(valueArb(type.element, depth + 1), { nil: null }), {
        maxLength: 3,
      }) as fc.Arbitrary<PvData>;
    default:
      return fc.constant([]);
  }
}

function scalarArb(type: ScalarType): fc.Arbitrary<PvData> {
  switch (type) {
    case 'boolean':
      return fc.boolean();
    case 'string':
      return fc.string({ maxLength: 300 });
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'uint64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'float32':
      return fc.float({ noNaN: true });
    case 'float64':
      return fc.double({ noNaN: true });
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint8':
      return fc.integer({ min: 0, max: 255 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
  }
}

function scalarArrayArb(type: ScalarType): fc.Arbitrary<PvData> {
  const elements = fc.array(scalarArb(type), { maxLength: 300 });
  if (type === 'string' || type === 'boolean') return elements as fc.Arbitrary<PvData>;
  const Class = {
    int8: Int8Array,
    int16: Int16Array,
    int32: Int32Array,
    int64: BigInt64Array,
    uint8: Uint8Array,
    uint16: Uint16Array,
    uint32: Uint32Array,
    uint64: BigUint64Array,
    float32: Float32Array,
    float64: Float64Array,
  }[type];
  return elements.map((values) => (Class as { from(v: unknown[]): PvData }).from(values));
}

describe('property: any type and value round-trip in both byte orders', () => {
  it('decodes what it encodes, consuming exactly the bytes written', () => {
    fc.assert(
      fc.property(
        typeArb.chain((type) => fc.tuple(fc.constant(type), valueArb(type), fc.boolean())),
        ([type, value, littleEndian]) => {
          const writer = new WireWriter(littleEndian);
          encodeFieldDesc(writer, type);
          encodeData(writer, type, value);
          const reader = new WireReader(writer.take(), littleEndian);
          const registry = new TypeRegistry();
          const decodedType = decodeFieldDesc(reader, registry) as FieldDesc;
          assert.deepEqual(decodedType, type);
          const decoded = decodeData(reader, decodedType, registry);
          if (type.kind === 'scalar' && type.type === 'float32') {
            assert.equal(decoded, Math.fround(value as number));
          } else if (!(type.kind === 'scalar' && type.type === 'string')) {
            assert.deepEqual(decoded, value);
          }
          assert.equal(reader.remaining, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('large numeric arrays stay where they were received', () => {
  const arrayType = scalarArrayDesc.uint16;
  /** A message holding one uint16 array of `count` elements, its data at `offset` bytes into a fresh buffer. */
  function message(count: number, offset: number, littleEndian = true): Buffer {
    const writer = new WireWriter(littleEndian);
    encodeData(
      writer,
      arrayType,
      Uint16Array.from({ length: count }, (_, i) => i * 3),
    );
    const encoded = writer.take();
    const buffer = Buffer.alloc(offset + encoded.length);
    encoded.copy(buffer, offset);
    return buffer;
  }
  const decode = (bytes: Buffer, offset: number, littleEndian = true): Uint16Array =>
    decodeData(
      new WireReader().reset(bytes, offset, bytes.length, littleEndian),
      arrayType,
      new TypeRegistry(),
    ) as Uint16Array;

  it('views an array that fills its buffer, aligned and in host order: no copy', () => {
    // A count of 1000 takes a 5-byte Size, so an offset of 1 puts the elements at byte 6.
    const bytes = message(1000, 1);
    const array = decode(bytes, 1);
    assert.equal(array.buffer, bytes.buffer);
    assert.deepEqual(Array.from(array.subarray(0, 3)), [0, 3, 6]);
    assert.equal(array[999], 2997);
  });

  it('copies it when misaligned, in the other byte order, or a small part of its buffer', () => {
    const misaligned = message(1000, 0);
    assert.notEqual(decode(misaligned, 0).buffer, misaligned.buffer);
    const swapped = message(1000, 1, false);
    const decoded = decode(swapped, 1, false);
    assert.notEqual(decoded.buffer, swapped.buffer);
    assert.equal(decoded[999], 2997);
    const small = Buffer.concat([message(10, 1), Buffer.alloc(4096)]);
    assert.notEqual(decode(small, 1).buffer, small.buffer);
  });

  it('copies it when the bytes are not retainable (the transport reuses them)', () => {
    const bytes = message(1000, 1);
    const reader = new WireReader().reset(bytes, 1, bytes.length, true, false);
    const array = decodeData(reader, arrayType, new TypeRegistry()) as Uint16Array;
    assert.notEqual(array.buffer, bytes.buffer);
    bytes.fill(0);
    assert.equal(array[999], 2997);
  });
});
