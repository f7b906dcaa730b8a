import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeHandoverMessage,
  encodeHandoverMessage,
  HANDOVER_MAGIC,
  HandoverKind,
  type HandoverMessage,
  HandoverMessageError,
} from '../../../src/group/handover-message.js';

const released: HandoverMessage = {
  kind: HandoverKind.Released,
  partition: 7,
  sender: 'fwd-a/1234',
  recipient: 'fwd-b/99',
  cuts: new Map([
    ['SIM:TEMP1', 1_700_000_000_123_456_789n],
    ['Température', 1n],
  ]),
};

describe('hand-over messages', () => {
  it('round-trips every kind', () => {
    for (const message of [
      { ...released, kind: HandoverKind.Releasing, recipient: '', cuts: new Map<string, bigint>() },
      { ...released, kind: HandoverKind.Ready, cuts: new Map<string, bigint>() },
      released,
      { ...released, cuts: new Map<string, bigint>() },
    ]) {
      assert.deepEqual(decodeHandoverMessage(encodeHandoverMessage(message)), message);
    }
  });

  it('lays the fields out as documented', () => {
    const bytes = encodeHandoverMessage({
      kind: HandoverKind.Released,
      partition: 0x01020304,
      sender: 'a',
      recipient: '',
      cuts: new Map([['p', 5n]]),
    });
    assert.deepEqual(
      [...bytes],
      [
        ...[0x48, 0x46, 0x4b, 0x45], // magic, little-endian
        1, // version
        3, // RELEASED
        ...[4, 3, 2, 1], // partition
        ...[1, 0, 0x61], // sender "a"
        ...[0, 0], // recipient ""
        ...[1, 0, 0, 0], // one cut
        ...[1, 0, 0x70], // stream "p"
        ...[5, 0, 0, 0, 0, 0, 0, 0], // its EPICS time
      ],
    );
  });

  it('decodes from a view into a larger buffer', () => {
    const bytes = encodeHandoverMessage(released);
    const larger = new Uint8Array(bytes.length + 10);
    larger.set(bytes, 5);
    assert.deepEqual(decodeHandoverMessage(larger.subarray(5, 5 + bytes.length)), released);
  });

  it('refuses what is not one whole message, saying why', () => {
    const bytes = encodeHandoverMessage(released);
    const refusal = (input: Uint8Array): string => {
      try {
        decodeHandoverMessage(input);
      } catch (error) {
        assert.ok(error instanceof HandoverMessageError);
        return error.message;
      }
      return 'accepted';
    };
    assert.match(refusal(Buffer.from('{"hello": 1}')), /not a hand-over message/);
    assert.match(refusal(new Uint8Array(0)), /cut short/);
    assert.match(refusal(bytes.subarray(0, bytes.length - 1)), /cut short/);
    assert.match(refusal(Buffer.concat([bytes, Buffer.from([0])])), /1 bytes after the end/);
    const wrongVersion = Buffer.from(bytes);
    wrongVersion[4] = 2;
    assert.match(refusal(wrongVersion), /version 2 is not supported/);
    const wrongKind = Buffer.from(bytes);
    wrongKind[5] = 9;
    assert.match(refusal(wrongKind), /unknown hand-over message kind 9/);
    assert.equal(Buffer.from(bytes).readUInt32LE(0), HANDOVER_MAGIC);
  });

  it('refuses to encode cuts on anything but RELEASED, and names too long to carry', () => {
    assert.throws(
      () => encodeHandoverMessage({ ...released, kind: HandoverKind.Ready }),
      HandoverMessageError,
    );
    assert.throws(() => encodeHandoverMessage({ ...released, sender: 'x'.repeat(70_000) }), /too long/);
  });
});
