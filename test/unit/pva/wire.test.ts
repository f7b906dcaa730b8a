import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitSet } from '../../../src/epics/pva/bitset.js';
import {
  OK_STATUS,
  PvaProtocolError,
  WireReader,
  WireWriter,
  isSuccess,
} from '../../../src/epics/pva/wire.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

function reader(bytes: Buffer, littleEndian = true): WireReader {
  return new WireReader(bytes, littleEndian);
}

describe('Size and String encodings', () => {
  it('encodes sizes in one byte up to 253, then 0xFE + i32, and null as 0xFF', () => {
    for (const [n, bytes] of [
      [0, '00'],
      [253, 'fd'],
      [254, 'fe fe000000'],
      [70000, 'fe 70110100'],
      [-1, 'ff'],
    ] as const) {
      const writer = new WireWriter(true);
      writer.size(n);
      assert.equal(writer.take().toString('hex'), bytes.replace(' ', ''));
      assert.equal(reader(hex(bytes)).size(), n);
    }
  });

  it('reads the i32 of a long size in the message byte order', () => {
    assert.equal(reader(hex('fe 00011170'), false).size(), 70000);
  });

  it('rejects negative sizes and counts larger than the bytes left', () => {
    assert.throws(() => reader(hex('fe ffffffff')).size(), PvaProtocolError);
    assert.throws(() => reader(hex('fe 00000010 0000')).count(1), PvaProtocolError);
  });

  it('reads strings as UTF-8 without NUL, and a null string as ""', () => {
    assert.equal(reader(hex('06 5453543a6169')).string(), 'TST:ai');
    assert.equal(reader(hex('ff')).string(), '');
    assert.equal(reader(hex('03 e282ac')).string(), '€');
    assert.throws(() => reader(hex('05 4142')).string(), PvaProtocolError);
  });

  it('round-trips strings of any length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.boolean(), (text, littleEndian) => {
        const writer = new WireWriter(littleEndian);
        writer.string(text);
        assert.equal(
          reader(writer.take(), littleEndian).string(),
          Buffer.from(text, 'utf8').toString('utf8'),
        );
      }),
    );
  });
});

describe('Status', () => {
  it('decodes 0xFF as OK without a message', () => {
    const status = reader(hex('ff')).status();
    assert.equal(status, OK_STATUS);
    assert.ok(isSuccess(status));
  });

  it('decodes the specification example 01 0A "Low memory" 00 as a warning', () => {
    const status = reader(Buffer.concat([hex('01 0a'), Buffer.from('Low memory'), hex('00')])).status();
    assert.deepEqual(status, { type: 1, message: 'Low memory', callTree: '' });
    assert.ok(isSuccess(status));
  });

  it('treats ERROR and FATAL as failures and encodes OK in one byte', () => {
    assert.equal(isSuccess({ type: 2, message: 'x', callTree: '' }), false);
    assert.equal(isSuccess({ type: 3, message: 'x', callTree: '' }), false);
    assert.equal(new WireWriter().status(OK_STATUS).take().toString('hex'), 'ff');
    assert.throws(() => reader(hex('07')).status(), PvaProtocolError);
  });
});

describe('BitSet', () => {
  const examples: [number[], string][] = [
    [[], '00'],
    [[0], '01 01'],
    [[7], '01 80'],
    [[8], '02 00 01'],
    [[0, 1, 2, 4, 8], '02 17 01'],
    [[64], '09 00 00 00 00 00 00 00 00 01'],
  ];

  it('decodes and encodes the little-endian examples', () => {
    for (const [bits, bytes] of examples) {
      assert.deepEqual(new BitSet().read(reader(hex(bytes))).toArray(), bits, bytes);
      const writer = new WireWriter(true);
      new BitSet().assign(bits).write(writer);
      assert.equal(writer.take().toString('hex'), bytes.replace(/ /g, ''));
    }
  });

  it('reverses each full 8-byte group on a big-endian connection', () => {
    // {0, 9, 63, 64}: a full word then one trailing byte.
    const le = hex('09 01 02 00 00 00 00 00 80 01');
    const be = hex('09 80 00 00 00 00 00 02 01 01');
    assert.deepEqual(new BitSet().read(reader(le, true)).toArray(), [0, 9, 63, 64]);
    assert.deepEqual(new BitSet().read(reader(be, false)).toArray(), [0, 9, 63, 64]);
    const writer = new WireWriter(false);
    new BitSet().assign([0, 9, 63, 64]).write(writer);
    assert.deepEqual(writer.take(), be);
  });

  it('decodes the changed set of the captured QSRV update {1, 7, 8, 9}', () => {
    assert.deepEqual(new BitSet().read(reader(hex('02 82 03'))).toArray(), [1, 7, 8, 9]);
  });

  it('round-trips any set in both byte orders and finds the next set bit', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(300)), fc.boolean(), (bits, littleEndian) => {
        const sorted = [...bits].sort((a, b) => a - b);
        const writer = new WireWriter(littleEndian);
        new BitSet().assign(bits).write(writer);
        const decoded = new BitSet().read(reader(writer.take(), littleEndian));
        assert.deepEqual(decoded.toArray(), sorted);
        assert.equal(decoded.cardinality(), sorted.length);
        assert.equal(decoded.isEmpty(), sorted.length === 0);
        for (const from of [0, 5, 64, 200])
          assert.equal(decoded.nextSetBit(from), sorted.find((b) => b >= from) ?? -1);
      }),
    );
  });

  it('is reusable: a smaller set read after a larger one keeps no stale bits', () => {
    const bits = new BitSet();
    bits.read(reader(hex('09 ff ff ff ff ff ff ff ff ff')));
    assert.equal(bits.cardinality(), 72);
    assert.deepEqual(bits.read(reader(hex('01 02'))).toArray(), [1]);
  });
});
