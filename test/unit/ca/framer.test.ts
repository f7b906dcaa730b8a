import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeDbr } from '../../../src/epics/ca/dbr.js';
import { MessageFramer } from '../../../src/epics/ca/framer.js';
import { CaProtocolError, encodeMessage, type MessageHeader } from '../../../src/epics/ca/messages.js';

interface Framed {
  header: MessageHeader;
  payload: string;
}

function frame(chunks: Buffer[], maxPayloadBytes = 1 << 24): Framed[] {
  const out: Framed[] = [];
  const framer = new MessageFramer(maxPayloadBytes, (header, payload) =>
    out.push({ header: { ...header }, payload: payload.toString('hex') }),
  );
  for (const chunk of chunks) framer.push(chunk);
  assert.equal(framer.hasPartialMessage, false);
  return out;
}

/** Cuts a stream at the given offsets. */
function cut(stream: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((offset) => offset % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  chunks.push(stream.subarray(start));
  return chunks;
}

const bigArray = encodeDbr(20, {
  status: 0,
  severity: 0,
  secondsPastEpoch: 5,
  nanoseconds: 6,
  values: Float64Array.from({ length: 100_000 }, (_, i) => i),
});

const stream = Buffer.concat([
  encodeMessage(0, 0, 13, 0, 0),
  encodeMessage(22, 0, 0, 1, 3),
  encodeMessage(18, 6, 1, 1, 77),
  encodeMessage(1, 20, 1, 1, 1, Buffer.from('0004000145661bec075bcd1500000000400a000000000000', 'hex')),
  encodeMessage(1, 20, 100_000, 1, 1, bigArray),
  encodeMessage(1, 20, 0, 1, 1, Buffer.alloc(16)),
  encodeMessage(23, 0, 0, 0, 0),
]);

describe('TCP framing', () => {
  const whole = frame([stream]);

  it('splits a stream into its messages, standard and extended', () => {
    assert.deepEqual(
      whole.map((message) => [message.header.command, message.header.count, message.payload.length / 2]),
      [
        [0, 13, 0],
        [22, 0, 0],
        [18, 1, 0],
        [1, 1, 24],
        [1, 100_000, 800_016],
        [1, 0, 16],
        [23, 0, 0],
      ],
    );
  });

  it('gives the same messages however the stream is cut (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (offsets) => {
        assert.deepEqual(frame(cut(stream, offsets)), whole);
      }),
      { numRuns: 60 },
    );
  });

  it('copes with byte-at-a-time delivery of small messages', () => {
    const small = stream.subarray(0, 16 + 16 + 16 + 40);
    const bytes = Array.from(small, (_, i) => small.subarray(i, i + 1));
    assert.deepEqual(frame(bytes), frame([small]));
  });

  it('rejects an announced size above the limit before receiving it', () => {
    const framer = new MessageFramer(1024, () => undefined);
    const header = Buffer.from('0001ffff00140000000000010000000100100000000186a0', 'hex');
    assert.throws(() => framer.push(header), CaProtocolError);
    const split = new MessageFramer(1024, () => undefined);
    split.push(header.subarray(0, 18));
    assert.throws(() => split.push(header.subarray(18)), CaProtocolError);
  });
});
