import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastMapping } from '../../../src/util/last-mapping.js';

describe('lastMapping', () => {
  it('maps again only when given another object, even an equal one', () => {
    let calls = 0;
    const lengthOf = lastMapping((list: readonly number[]) => {
      calls++;
      return list.length;
    });
    const first = [1, 2];
    assert.equal(lengthOf(first), 2);
    assert.equal(lengthOf(first), 2);
    assert.equal(calls, 1);
    assert.equal(lengthOf([1, 2, 3]), 3);
    assert.equal(lengthOf([1, 2, 3]), 3);
    assert.equal(calls, 3);
  });
});
