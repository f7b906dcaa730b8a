import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LARGEST_SLAB_SHARE, Slabs } from '../../../src/util/slabs.js';

describe('Slabs', () => {
  it('hands out zeroed, non-overlapping arrays of one buffer, aligned to their element size', () => {
    const slabs = new Slabs();
    const bytes = slabs.uint8Array(6);
    const words = slabs.uint32Array(2);
    assert.equal(bytes.buffer, words.buffer);
    assert.deepEqual(
      [bytes.byteOffset, words.byteOffset],
      [0, 8],
      'the words start at the next multiple of 4',
    );
    assert.deepEqual([...words], [0, 0]);
    words.fill(7);
    assert.deepEqual([...bytes], [0, 0, 0, 0, 0, 0]);
  });

  it('starts a new buffer when an array does not fit, and gives larger arrays a buffer of their own', () => {
    const slabs = new Slabs();
    const first = slabs.uint8Array(LARGEST_SLAB_SHARE);
    let last = first;
    while (last.buffer === first.buffer) last = slabs.uint8Array(LARGEST_SLAB_SHARE);
    assert.equal(last.byteOffset, 0);
    assert.equal(first.buffer.byteLength % LARGEST_SLAB_SHARE, 0);
    const large = slabs.uint8Array(LARGEST_SLAB_SHARE + 1);
    assert.deepEqual([large.byteOffset, large.buffer.byteLength], [0, LARGEST_SLAB_SHARE + 1]);
    const largeWords = slabs.uint32Array(LARGEST_SLAB_SHARE / 4 + 1);
    assert.equal(largeWords.buffer.byteLength, LARGEST_SLAB_SHARE + 4);
  });
});
