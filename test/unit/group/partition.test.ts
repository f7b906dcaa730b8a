import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fnv1a32, pvPartition } from '../../../src/group/partition.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('stream partitions of a forwarding group', () => {
  it('hashes with 32-bit FNV-1a (published test vectors)', () => {
    assert.equal(fnv1a32(bytes('')), 0x811c9dc5);
    assert.equal(fnv1a32(bytes('a')), 0xe40c292c);
    assert.equal(fnv1a32(bytes('foobar')), 0xbf9cf968);
  });

  it('puts a PV on the same partition every time, on the UTF-8 bytes of its name', () => {
    assert.equal(pvPartition('SIM:TEMP1', 32), fnv1a32(bytes('SIM:TEMP1')) % 32);
    assert.equal(pvPartition('Température', 7), fnv1a32(bytes('Température')) % 7);
    assert.equal(pvPartition('SIM:TEMP1', 1), 0);
  });

  it('spreads many PV names evenly', () => {
    const counts = new Array<number>(32).fill(0);
    for (let i = 0; i < 32_000; i++) counts[pvPartition(`BL:DEV${i}:VAL`, 32)]! += 1;
    assert.ok(Math.min(...counts) > 800 && Math.max(...counts) < 1200, counts.join(','));
  });
});
