/**
 * Partial values of a monitored structure (docs/protocols/pvaccess.md, "Values"), merged into the last
 * complete value.
 *
 * A monitored structure is flattened into a `StructureLayout`: its nodes numbered depth-first (the root is 0, a
 * structure's children follow it), which is exactly the bit numbering of changed/overrun BitSets. The merged value
 * lives in a flat array indexed by node (`StructureStore`), so applying a delta writes straight into it with no
 * tree walking; leaves of compound types (unions, variants, structure arrays) hold generic `PvData`.
 */
import { BitSet } from './bitset.js';
import type { FieldDesc, Member, StructureDesc, TypeRegistry } from './introspection.js';
import {
  decodeData,
  defaultData,
  encodeData,
  type PvData,
  type PvStructureData,
  readScalarArray,
  type ScalarReader,
  scalarReaders,
} from './values.js';
import type { WireReader, WireWriter } from './wire.js';
import { Slabs } from '../../util/slabs.js';

/** One node of a flattened structure type. */
export interface LayoutNode {
  /** Dotted path from the top structure ("" for the top itself). */
  readonly path: string;
  readonly type: FieldDesc;
  /** Index of the parent node (-1 for the top). */
  readonly parent: number;
  /** One past the index of the last descendant: the subtree is [index, end). */
  readonly end: number;
}

/** A structure type numbered depth-first, as the BitSets of partial values number it. */
export class StructureLayout {
  readonly nodes: readonly LayoutNode[];
  private readonly byPath: ReadonlyMap<string, number>;
  /** Per node: how to decode it if it is a leaf (undefined for structure nodes, which carry no bytes). */
  readonly leafReaders: readonly (ScalarReader | undefined)[];

  constructor(readonly type: StructureDesc) {
    const nodes: LayoutNode[] = [];
    const flatten = (path: string, nodeType: FieldDesc, parent: number): void => {
      const index = nodes.length;
      const node = { path, type: nodeType, parent, end: index + 1 };
      nodes.push(node);
      if (nodeType.kind === 'structure') {
        for (const member of nodeType.fields)
          flatten(path ? `${path}.${member.name}` : member.name, member.type, index);
        node.end = nodes.length;
      }
    };
    flatten('', type, -1);
    this.nodes = nodes;
    this.byPath = new Map(nodes.map((node, index) => [node.path, index]));
    this.leafReaders = nodes.map((node) => leafReader(node.type));
  }

  get size(): number {
    return this.nodes.length;
  }

  /** Node index of a dotted path, or -1. */
  indexOf(path: string): number {
    return this.byPath.get(path) ?? -1;
  }

  node(index: number): LayoutNode {
    const node = this.nodes[index];
    if (!node) throw new RangeError(`no node ${index}`);
    return node;
  }

  /** Children of a structure node, with their indices. */
  children(index: number): { member: Member; index: number }[] {
    const node = this.node(index);
    if (node.type.kind !== 'structure') return [];
    const out: { member: Member; index: number }[] = [];
    let child = index + 1;
    for (const member of node.type.fields) {
      out.push({ member, index: child });
      child = this.node(child).end;
    }
    return out;
  }
}

function leafReader(type: FieldDesc): ScalarReader | undefined {
  switch (type.kind) {
    case 'structure':
      return undefined;
    case 'scalar':
      return scalarReaders[type.type];
    case 'scalarArray': {
      const element = type.type;
      return (reader) => readScalarArray(reader, element);
    }
    default:
      // Compound leaves need the type registry (variants carry types); decodeDelta handles them.
      return undefined;
  }
}

/**
 * Variants and arrays of structures, unions or variants whose encoding is at most this long are remembered with
 * their bytes: the NDAttributes and dimensions every NTNDArray frame repeats are then compared, not decoded again.
 * (Not unions: an NTNDArray's image is one, and comparing it would only cost.)
 */
const MAX_REMEMBERED_LEAF_BYTES = 4096;

/** A compound leaf as last decoded: its bytes (a copy) and the value they gave. */
interface RememberedLeaf {
  bytes: Buffer;
  value: PvData;
}

/** A store lives as long as its monitor: its change marks take little room, so they share slabs. */
const changeMarkSlabs = new Slabs();

/**
 * The merged value of a monitored structure: one slot per layout node (structure nodes stay undefined), plus the
 * update sequence number at which each node was last written, so consumers can tell what changed.
 */
export class StructureStore {
  readonly values: (PvData | undefined)[];
  readonly changedAt: Uint32Array;
  /** Incremented by every applied delta. */
  sequence = 0;
  /** Leaves the last delta marked as overrun (changed more than once since the previous update). */
  lastOverrunCount = 0;
  /** Compound leaves by node, created at the first: most monitored types have none. */
  remembered: (RememberedLeaf | undefined)[] | undefined;

  constructor(readonly layout: StructureLayout) {
    this.values = layout.nodes.map((node) =>
      node.type.kind === 'structure' ? undefined : defaultData(node.type),
    );
    this.changedAt = changeMarkSlabs.uint32Array(layout.size);
  }

  get(index: number): PvData | undefined {
    return this.values[index];
  }

  /** True when any node in [from, to) changed in the last applied delta. */
  changedInRange(from: number, to: number): boolean {
    const sequence = this.sequence;
    for (let i = from; i < to; i++) if (this.changedAt[i] === sequence) return true;
    return false;
  }

  /** The merged value as a plain nested object. */
  toData(index = 0): PvData {
    const node = this.layout.node(index);
    if (node.type.kind !== 'structure') return this.values[index] as PvData;
    const out: Record<string, PvData> = {};
    for (const { member, index: child } of this.layout.children(index)) out[member.name] = this.toData(child);
    return out;
  }
}

/**
 * Applies a partial value (changed BitSet, the values it selects, overrun BitSet) to the store, as pvxs
 * from_wire_valid: for each set bit b, decode node b in full (a structure node: all its descendants), then
 * continue at the first set bit past b's subtree, so bits of already decoded descendants are skipped. Bits past
 * the last node are padding of the byte-granular encoding and ignored.
 * `changed` and `overrun` are scratch BitSets owned by the caller (reused across messages).
 */
export function decodeDelta(
  reader: WireReader,
  store: StructureStore,
  registry: TypeRegistry,
  changed: BitSet,
  overrun: BitSet,
): void {
  const layout = store.layout;
  const nodes = layout.nodes;
  const readers = layout.leafReaders;
  const values = store.values;
  const changedAt = store.changedAt;
  const sequence = ++store.sequence;
  changed.read(reader);
  let bit = changed.nextSetBit(0);
  while (bit >= 0 && bit < nodes.length) {
    const end = (nodes[bit] as LayoutNode).end;
    for (let i = bit; i < end; i++) {
      const node = nodes[i] as LayoutNode;
      changedAt[i] = sequence;
      if (node.type.kind === 'structure') continue;
      const read = readers[i];
      if (read) values[i] = read(reader);
      else if (node.type.kind === 'union') values[i] = decodeData(reader, node.type, registry);
      else values[i] = decodeRepeatedLeaf(reader, store, i, registry);
    }
    bit = changed.nextSetBit(end);
  }
  overrun.read(reader);
  store.lastOverrunCount = overrun.isEmpty() ? 0 : overrun.cardinality();
}

/**
 * A variant or array leaf: the value decoded last time when the bytes are the same (a value that uses no type the
 * connection cached depends on its bytes alone, and values are never changed once decoded), else decoded.
 */
function decodeRepeatedLeaf(
  reader: WireReader,
  store: StructureStore,
  index: number,
  registry: TypeRegistry,
): PvData {
  const remembered = store.remembered?.[index];
  const start = reader.pos;
  if (remembered !== undefined) {
    const length = remembered.bytes.length;
    if (
      reader.remaining >= length &&
      reader.bytes.compare(remembered.bytes, 0, length, start, start + length) === 0
    ) {
      reader.pos = start + length;
      return remembered.value;
    }
  }
  registry.used = false;
  const value = decodeData(reader, store.layout.nodes[index]?.type as FieldDesc, registry);
  const length = reader.pos - start;
  if (registry.used || length > MAX_REMEMBERED_LEAF_BYTES) {
    if (remembered !== undefined) (store.remembered as (RememberedLeaf | undefined)[])[index] = undefined;
  } else if (remembered?.bytes.length === length) {
    // Changed values of the same length (an attribute's number): the copy's buffer serves again.
    reader.bytes.copy(remembered.bytes, 0, start, reader.pos);
    remembered.value = value;
  } else {
    store.remembered ??= [];
    store.remembered[index] = { bytes: Buffer.from(reader.bytes.subarray(start, reader.pos)), value };
  }
  return value;
}

/** Encodes a partial value of `data` (a plain object of the layout's type) selecting the `changed` nodes. */
export function encodeDelta(
  writer: WireWriter,
  layout: StructureLayout,
  data: PvStructureData,
  changed: BitSet,
  overrun: BitSet = new BitSet(),
): void {
  changed.write(writer);
  let bit = changed.nextSetBit(0);
  while (bit >= 0 && bit < layout.size) {
    const node = layout.node(bit);
    encodeData(writer, node.type, dataAt(data, node.path));
    bit = changed.nextSetBit(node.end);
  }
  overrun.write(writer);
}

function dataAt(data: PvStructureData, path: string): PvData | undefined {
  if (path === '') return data;
  let current: PvData | undefined = data;
  for (const name of path.split('.')) {
    current = (current as PvStructureData | undefined)?.[name];
  }
  return current;
}
