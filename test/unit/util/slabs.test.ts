import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LARGEST_SLAB_SHARE, Slabs } from '../../../src/util/slabs.js';

describe('Slabs', () => {
  it('hands out zeroed, non-overlapping shares of one buffer, aligned, until it is full', () => {
    const slabs = new Slabs(4);
    const first = slabs.share(6);
    const second = slabs.share(8);
    assert.equal(first.buffer, second.buffer);
    assert.deepEqual(
      [first.byteOffset, second.byteOffset],
      [0, 8],
      'the second starts at the next multiple of 4',
    );
    const view = new Uint32Array(second.buffer, second.byteOffset, 2);
    assert.deepEqual([...view], [0, 0]);
    view.fill(7);
    assert.deepEqual([...new Uint8Array(first.buffer, first.byteOffset, 6)], [0, 0, 0, 0, 0, 0]);
  });

  it('starts a new buffer when a share does not fit, and refuses shares larger than LARGEST_SLAB_SHARE', () => {
    const slabs = new Slabs();
    const first = slabs.share(LARGEST_SLAB_SHARE);
    let last = first;
    while (last.buffer === first.buffer) last = slabs.share(LARGEST_SLAB_SHARE);
    assert.equal(last.byteOffset, 0);
    assert.equal(first.buffer.byteLength % LARGEST_SLAB_SHARE, 0);
    assert.throws(() => slabs.share(LARGEST_SLAB_SHARE + 1), RangeError);
  });
});
