import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { crc32Of } from '../../../src/spool/crc32.js';

describe('spool CRC-32', () => {
  it("gives zlib's value for every length up to 64 bytes, at any offset", () => {
    const bytes = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 7919 + 13) & 0xff));
    for (let length = 0; length <= 64; length++) {
      for (const start of [0, 1, 3, 7, 100]) {
        const end = start + length;
        assert.equal(crc32Of(bytes, start, end), crc32(bytes.subarray(start, end)), `${start}+${length}`);
      }
    }
  });

  it('takes the whole input by default, and the check value of "123456789"', () => {
    assert.equal(crc32Of(Buffer.from('123456789')), 0xcbf43926);
    const large = Buffer.alloc(10_000, 0xa5);
    assert.equal(crc32Of(large), crc32(large));
  });
});
