import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { valueText } from '../../../src/model/value-text.js';

describe('a value as short text', () => {
  it('gives numbers their precision and units, and cuts arrays with their length', () => {
    assert.equal(
      valueText({ kind: 'scalar', type: 'float64', value: 9.9512 }, { precision: 2, units: 'mA' }),
      '9.95 mA',
    );
    const array = Float64Array.from({ length: 100 }, (_, index) => index);
    assert.equal(
      valueText({ kind: 'array', type: 'float64', value: array }, undefined, 20),
      '[0, 1, 2, … (100)]',
    );
  });

  it('shows an image by its shape (rows × columns), type, codec and frame number', () => {
    const image = {
      kind: 'ndarray' as const,
      type: 'uint16' as const,
      data: new Uint16Array(64 * 48),
      dimensions: [64, 48],
      uniqueId: 7,
      codec: '',
      attributes: [],
    };
    assert.equal(valueText(image), 'image 48×64 uint16, frame 7');
    assert.equal(valueText({ ...image, codec: 'lz4' }), 'image 48×64 uint16 (lz4), frame 7');
  });
});
