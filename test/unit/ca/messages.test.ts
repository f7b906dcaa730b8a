import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from '../../../src/epics/ca/constants.js';
import {
  CaProtocolError,
  decodeDatagram,
  decodeErrorPayload,
  emptyHeader,
  encodeClearChannel,
  encodeClientName,
  encodeCreateChannel,
  encodeEventAdd,
  encodeEventCancel,
  encodeHostName,
  encodeMessage,
  encodeSearch,
  encodeSearchVersion,
  encodeString,
  encodeVersion,
  readHeader,
} from '../../../src/epics/ca/messages.js';

/** Hex from captures of libca 7.0.3.1 talking to a test server, whitespace ignored. */
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('CA message headers', () => {
  it('reads a standard header', () => {
    const header = emptyHeader();
    assert.ok(readHeader(hex('00 01 00 18 00 14 00 01 00 00 00 01 00 00 00 01'), 0, header));
    assert.deepEqual(header, {
      command: 1,
      payloadSize: 24,
      dataType: 20,
      count: 1,
      p1: 1,
      p2: 1,
      headerSize: 16,
    });
  });

  it('reads the extended header of a 100,000-element reply', () => {
    const header = emptyHeader();
    assert.ok(
      readHeader(hex('00 01 ff ff 00 14 00 00 00 00 00 01 00 00 00 01 00 0c 35 10 00 01 86 a0'), 0, header),
    );
    assert.deepEqual(header, {
      command: 1,
      payloadSize: 800_016,
      dataType: 20,
      count: 100_000,
      p1: 1,
      p2: 1,
      headerSize: 24,
    });
  });

  it('reports incomplete headers', () => {
    assert.equal(readHeader(Buffer.alloc(15), 0, emptyHeader()), false);
    assert.equal(
      readHeader(hex('00 01 ff ff 00 14 00 00 00 00 00 01 00 00 00 01 00 0c'), 0, emptyHeader()),
      false,
    );
  });

  it('pads strings with a NUL to a multiple of 8', () => {
    assert.equal(encodeString('TEST:AI').toString('hex'), '544553543a414900');
    assert.equal(encodeString('12345678').length, 16);
    assert.equal(encodeString('').length, 8);
  });

  it('uses the extended header for large counts even with a small payload', () => {
    const message = encodeMessage(Command.EVENT_ADD, 20, 0x10000, 1, 2, Buffer.alloc(16));
    assert.equal(message.length, 24 + 16);
    const header = emptyHeader();
    readHeader(message, 0, header);
    assert.equal(header.count, 0x10000);
    assert.equal(header.payloadSize, 16);
  });
});

describe('requests against the libca capture', () => {
  it('encodes the search datagram: VERSION with sequence 1, SEARCH TEST:AI CID 1', () => {
    const datagram = Buffer.concat([encodeSearchVersion(1), encodeSearch(1, 'TEST:AI')]);
    assert.deepEqual(
      datagram,
      hex(`00 00 00 00 00 01 00 0d 00 00 00 01 00 00 00 00
           00 06 00 08 00 05 00 0d 00 00 00 01 00 00 00 01
           54 45 53 54 3a 41 49 00`),
    );
  });

  it('decodes the search reply datagram', () => {
    const messages = decodeDatagram(
      hex(`00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00
           00 06 00 08 3a de 00 00 ff ff ff ff 00 00 00 01
           00 0d 00 00 00 00 00 00`),
    );
    assert.equal(messages.length, 2);
    const reply = messages[1];
    assert.ok(reply);
    assert.equal(reply.header.command, Command.SEARCH);
    assert.equal(reply.header.dataType, 15070);
    assert.equal(reply.header.p1, 0xffffffff);
    assert.equal(reply.header.p2, 1);
    assert.equal(reply.payload.readUInt16BE(0), 13);
  });

  it('rejects a truncated datagram', () => {
    assert.throws(
      () => decodeDatagram(hex('00 06 00 08 3a de 00 00 ff ff ff ff 00 00 00 01 00 0d')),
      CaProtocolError,
    );
    assert.throws(() => decodeDatagram(hex('00 06 00 08 3a de')), CaProtocolError);
  });

  it('encodes the first TCP write: VERSION, CLIENT_NAME, HOST_NAME, CREATE_CHAN', () => {
    const write = Buffer.concat([
      encodeVersion(0),
      encodeClientName('root'),
      encodeHostName('vm'),
      encodeCreateChannel(1, 'TEST:AI'),
    ]);
    assert.deepEqual(
      write,
      hex(`00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00
           00 14 00 08 00 00 00 00 00 00 00 00 00 00 00 00 72 6f 6f 74 00 00 00 00
           00 15 00 08 00 00 00 00 00 00 00 00 00 00 00 00 76 6d 00 00 00 00 00 00
           00 12 00 08 00 00 00 00 00 00 00 01 00 00 00 0d 54 45 53 54 3a 41 49 00`),
    );
  });

  it('encodes EVENT_ADD for DBR_TIME_DOUBLE, dynamic count, mask 5', () => {
    assert.deepEqual(
      encodeEventAdd(77, 1, 20, 0, 5),
      hex(`00 01 00 10 00 14 00 00 00 00 00 4d 00 00 00 01
           00 00 00 00 00 00 00 00 00 00 00 00 00 05 00 00`),
    );
  });

  it('encodes EVENT_ADD for 100,000 elements with an extended header', () => {
    assert.deepEqual(
      encodeEventAdd(77, 1, 20, 100_000, 5),
      hex(`00 01 ff ff 00 14 00 00 00 00 00 4d 00 00 00 01 00 00 00 10 00 01 86 a0
           00 00 00 00 00 00 00 00 00 00 00 00 00 05 00 00`),
    );
  });

  it('encodes EVENT_CANCEL and CLEAR_CHANNEL', () => {
    assert.deepEqual(
      encodeEventCancel(77, 1, 20, 100_000),
      hex('00 02 00 00 00 14 86 a0 00 00 00 4d 00 00 00 01'),
    );
    assert.deepEqual(encodeClearChannel(77, 1), hex('00 0c 00 00 00 00 00 00 00 00 00 4d 00 00 00 01'));
  });

  it('decodes an ERROR payload embedding an extended EVENT_ADD header', () => {
    const request = encodeEventAdd(77, 9, 20, 100_000, 5).subarray(0, 24);
    const payload = Buffer.concat([request, Buffer.from('too large\0\0\0\0\0\0\0', 'latin1')]);
    const decoded = decodeErrorPayload(payload);
    assert.equal(decoded.request.command, Command.EVENT_ADD);
    assert.equal(decoded.request.p2, 9);
    assert.equal(decoded.request.count, 100_000);
    assert.equal(decoded.text, 'too large');
    assert.throws(() => decodeErrorPayload(Buffer.alloc(8)), CaProtocolError);
  });
});
