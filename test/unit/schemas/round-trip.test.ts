/**
 * Property: every message of every schema, over each field's full range (64-bit extremes, NaN, infinities,
 * non-ASCII and long strings, empty vectors), decodes to itself, at any byte offset, with our reader and with the
 * flatc-generated one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deserialiseAny } from '../../../src/schemas/registry.js';
import { decodeWithGenerated } from './generated-reader.js';
import { anyMessage, atOffset, MESSAGE, serialiseDecoded } from './helpers.js';
import type { FileIdentifier } from '../../../src/schemas/registry.js';

describe('serialise then deserialise', () => {
  for (const schema of Object.keys(MESSAGE) as FileIdentifier[]) {
    it(`${schema} round-trips`, () => {
      fc.assert(
        fc.property(MESSAGE[schema], fc.integer({ min: 0, max: 15 }), (message, offset) => {
          const decoded = { schema, message } as Parameters<typeof serialiseDecoded>[0];
          const bytes = serialiseDecoded(decoded);
          assert.deepEqual(deserialiseAny(atOffset(bytes, offset)), decoded);
          assert.deepEqual(decodeWithGenerated(bytes), decoded);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('returns buffers the caller owns', () => {
    fc.assert(
      fc.property(anyMessage, anyMessage, (first, second) => {
        const firstBytes = serialiseDecoded(first);
        const copy = firstBytes.slice();
        serialiseDecoded(second);
        assert.deepEqual(firstBytes, copy);
        assert.equal(firstBytes.byteOffset, 0);
        assert.equal(firstBytes.buffer.byteLength, firstBytes.length);
      }),
      { numRuns: 200 },
    );
  });
});
