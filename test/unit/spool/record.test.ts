import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeRecord,
  encodeRecord,
  findNextHeader,
  HEADER_BYTES,
  recordSize,
} from '../../../src/spool/record.js';

function record(topic: string, key: Buffer | null, payload: Buffer, timestampMs: number): Buffer {
  const bytes = Buffer.alloc(recordSize(topic, key, payload));
  assert.equal(encodeRecord(bytes, 0, topic, key, payload, timestampMs), bytes.length);
  return bytes;
}

describe('spool records', () => {
  it('round-trips topic, key, payload and Kafka timestamp', () => {
    const bytes = record('données', Buffer.from('PV:ONE'), Buffer.from([1, 2, 3]), 1_700_000_000_123);
    const found = decodeRecord(bytes, 0);
    assert.equal(found.kind, 'record');
    if (found.kind !== 'record') return;
    assert.equal(found.end, bytes.length);
    assert.equal(found.message.topic, 'données');
    assert.deepEqual(found.message.key, Buffer.from('PV:ONE'));
    assert.deepEqual(found.message.payload, Buffer.from([1, 2, 3]));
    assert.equal(found.message.timestampMs, 1_700_000_000_123);
  });

  it('tells no key from an empty key, and takes an empty payload', () => {
    const none = decodeRecord(record('t', null, Buffer.alloc(0), 1), 0);
    const empty = decodeRecord(record('t', Buffer.alloc(0), Buffer.alloc(0), 1), 0);
    assert.ok(none.kind === 'record' && none.message.key === null && none.message.payload.length === 0);
    assert.ok(empty.kind === 'record' && empty.message.key?.length === 0);
  });

  it('says incomplete for a cut record, corrupt for a changed byte or a wrong header', () => {
    const bytes = record('topic', Buffer.from('k'), Buffer.from('payload'), 5);
    assert.equal(decodeRecord(bytes.subarray(0, bytes.length - 1), 0).kind, 'incomplete');
    assert.equal(decodeRecord(bytes.subarray(0, HEADER_BYTES - 1), 0).kind, 'incomplete');
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 2] = (flipped[bytes.length - 2] as number) ^ 0xff;
    assert.deepEqual(decodeRecord(flipped, 0), { kind: 'corrupt', reason: 'checksum mismatch' });
    const noMagic = Buffer.from(bytes);
    noMagic[0] = 0;
    assert.deepEqual(decodeRecord(noMagic, 0), { kind: 'corrupt', reason: 'no record header' });
    const hugeLength = Buffer.from(bytes);
    hugeLength.writeUInt32LE(0xffffffff, 4);
    assert.equal(decodeRecord(hugeLength, 0).kind, 'corrupt');
  });

  it('finds the next record header after damaged bytes', () => {
    const first = record('a', null, Buffer.from('one'), 1);
    const second = record('b', null, Buffer.from('two'), 2);
    const joined = Buffer.concat([first, second]);
    assert.equal(findNextHeader(joined, 1), first.length);
    assert.equal(findNextHeader(joined, first.length + 1), -1);
  });
});
