/** A PV of the fake pvAccess server: its type and current value, and what a test makes the server do with it. */
import { BitSet } from '../../../src/epics/pva/bitset.js';
import type { StructureDesc } from '../../../src/epics/pva/introspection.js';
import { type PvData, type PvStructureData } from '../../../src/epics/pva/values.js';
import { StructureLayout } from '../../../src/epics/pva/structure.js';
import { OK_STATUS, type PvaStatus } from '../../../src/epics/pva/wire.js';
import type { FakePvaServer } from './server.js';

export class FakePv {
  value: PvStructureData;
  readonly layout: StructureLayout;
  /** Updates sent by stream() for this PV (to every connection together). */
  streamed = 0;

  constructor(
    private readonly server: FakePvaServer,
    readonly name: string,
    readonly type: StructureDesc,
    initial: PvStructureData,
  ) {
    this.layout = new StructureLayout(type);
    this.value = initial;
  }

  /**
   * Merges `changes` (a partial value: nested objects for sub-structures) and sends a delta to every running
   * monitor with the changed leaves' bits, or with the given bit numbers.
   */
  post(changes: PvStructureData, bits?: readonly number[], overrun: readonly number[] = []): void {
    this.value = merge(this.value, changes) as PvStructureData;
    const changed = new BitSet().assign(bits ?? changedBits(this.layout, changes));
    this.server.sendUpdate(this, changed, new BitSet().assign(overrun));
  }

  /** Ends every monitor of this PV with MONITOR final (0x10) carrying the status. */
  finish(status: PvaStatus = OK_STATUS): void {
    this.server.finishMonitors(this, status);
  }

  /** Sends an unsolicited DESTROY_CHANNEL for every channel of this PV. */
  destroyChannels(): void {
    this.server.destroyChannels(this);
  }
}

/** Bits of the leaves present in a partial value (a present sub-structure object marks its present leaves). */
function changedBits(layout: StructureLayout, changes: PvStructureData): number[] {
  const bits: number[] = [];
  const visit = (index: number, value: PvData): void => {
    const node = layout.node(index);
    if (node.type.kind !== 'structure' || isArrayLike(value)) {
      bits.push(index);
      return;
    }
    for (const { member, index: child } of layout.children(index)) {
      const childValue = (value as PvStructureData)[member.name];
      if (childValue !== undefined) visit(child, childValue);
    }
  };
  visit(0, changes);
  return bits;
}

function isArrayLike(value: PvData): boolean {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

function merge(base: PvData, changes: PvData): PvData {
  if (
    typeof base !== 'object' ||
    typeof changes !== 'object' ||
    base === null ||
    changes === null ||
    isArrayLike(base) ||
    isArrayLike(changes) ||
    base.constructor !== Object ||
    changes.constructor !== Object
  ) {
    return changes;
  }
  const out: Record<string, PvData> = { ...(base as PvStructureData) };
  for (const [key, value] of Object.entries(changes as PvStructureData)) {
    out[key] = key in out ? merge(out[key] as PvData, value) : value;
  }
  return out;
}
