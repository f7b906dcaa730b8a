/**
 * Known-byte tests against a real capture (a pvxs 1.5 softIocPVX answering a hand-written client): every message
 * our encoders produce must match it byte for byte, every server message must decode to the values stated there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readHeader } from '../../../src/epics/pva/header.js';
import { TypeRegistry, decodeFieldDesc } from '../../../src/epics/pva/introspection.js';
import {
  decodeCreateChannelResponse,
  decodeDestroyChannel,
  decodeMonitorRequest,
  decodeSearch,
  decodeSearchResponse,
  decodeServerValidation,
  encodeClientValidation,
  encodeCreateChannel,
  encodeDestroyChannel,
  encodeEcho,
  encodeMonitorCommand,
  encodeMonitorInit,
  encodeRequestIds,
  encodeSearch,
  encodeSearchResponse,
} from '../../../src/epics/pva/messages.js';
import { Command, ControlCommand, MonitorSubcommand } from '../../../src/epics/pva/protocol.js';
import { WireReader, WireWriter } from '../../../src/epics/pva/wire.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** The payload of a captured message, as a reader in the message's byte order. */
function payload(message: Buffer): WireReader {
  const header = readHeader(message, 0, ((message[2] as number) & 0x40) !== 0);
  assert.equal(message.length, 8 + header.size, 'capture length matches its header');
  return new WireReader().reset(message, 8, message.length, (header.flags & 0x80) === 0);
}

function encode(write: (writer: WireWriter) => void, littleEndian = true): Buffer {
  const writer = new WireWriter(littleEndian);
  write(writer);
  return writer.take();
}

const capture = {
  search: hex(`ca 02 80 03 00 00 00 2c 11 22 33 44 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
               b6 1f 01 03 74 63 70 00 01 00 00 00 07 06 54 53 54 3a 61 69`),
  searchResponse:
    hex(`ca 02 c0 04 00 00 00 2d 30 be d2 c4 3d 00 d4 45 60 c7 e1 7c 11 22 33 44 00 00 00 00 00 00 00 00
                       00 00 ff ff 00 00 00 00 3a e3 03 74 63 70 01 00 01 00 00 00 07`),
  setByteOrder: hex('ca 02 41 02 00 00 00 00'),
  serverValidation: hex(
    'ca 02 40 01 14 00 00 00 00 00 01 00 ff 7f 02 09 61 6e 6f 6e 79 6d 6f 75 73 02 63 61',
  ),
  clientValidation: hex('ca 02 00 01 13 00 00 00 00 00 01 00 ff 7f 00 00 09 61 6e 6f 6e 79 6d 6f 75 73 ff'),
  validated: hex('ca 02 40 09 01 00 00 00 ff'),
  createChannel: hex('ca 02 00 07 0d 00 00 00 01 00 07 00 00 00 06 54 53 54 3a 61 69'),
  createChannelResponse: hex('ca 02 40 07 09 00 00 00 07 00 00 00 01 03 05 07 ff'),
  monitorInit: hex('ca 02 00 0d 15 00 00 00 01 03 05 07 2a 00 00 00 08 80 00 01 05 66 69 65 6c 64 80 00 00'),
  monitorStart: hex('ca 02 00 0d 09 00 00 00 01 03 05 07 2a 00 00 00 44'),
  echoReply: hex('ca 02 40 02 05 00 00 00 68 65 6c 6c 6f'),
  destroyChannelReply: hex('ca 02 40 08 08 00 00 00 01 03 05 07 07 00 00 00'),
};

describe('header', () => {
  it('decodes SET_BYTE_ORDER as a little-endian control message from the server', () => {
    const header = readHeader(capture.setByteOrder, 0, true);
    assert.deepEqual(header, { version: 2, flags: 0x41, command: ControlCommand.setByteOrder, size: 0 });
  });

  it('decodes the payload size in each message’s own byte order', () => {
    assert.equal(readHeader(capture.search, 0, false).size, 0x2c);
    assert.equal(readHeader(capture.createChannel, 0, false).size, 0x0d);
  });

  it('rejects a bad magic, version 0 and a wrong direction flag', () => {
    assert.throws(() => readHeader(hex('cb 02 40 02 00 00 00 00'), 0, true), /magic/);
    assert.throws(() => readHeader(hex('ca 00 40 02 00 00 00 00'), 0, true), /version/);
    assert.throws(() => readHeader(capture.createChannel, 0, true), /direction/);
  });
});

describe('SEARCH and SEARCH_RESPONSE', () => {
  it('encodes the captured big-endian SEARCH byte for byte', () => {
    const request = {
      sequenceId: 0x11223344,
      flags: 0,
      responseAddress: null,
      responsePort: 0xb61f,
      protocols: ['tcp'],
      channels: [{ id: 7, name: 'TST:ai' }],
    };
    assert.deepEqual(
      encode((w) => encodeSearch(w, request), false),
      capture.search,
    );
    assert.deepEqual(decodeSearch(payload(capture.search)), request);
  });

  it('decodes the captured reply: ::ffff:0.0.0.0 means "use the source address", port 15075', () => {
    const response = decodeSearchResponse(payload(capture.searchResponse));
    assert.deepEqual(response, {
      guid: '30bed2c43d00d44560c7e17c',
      sequenceId: 0x11223344,
      serverAddress: null,
      serverPort: 15075,
      protocol: 'tcp',
      found: true,
      channelIds: [7],
    });
    assert.deepEqual(
      encode((w) => encodeSearchResponse(w, response), false),
      capture.searchResponse,
    );
  });

  it('treats sixteen zeros as "any" too, and reads explicit IPv4 and IPv6 addresses', () => {
    const zeros = Buffer.from(capture.searchResponse);
    zeros[8 + 12 + 4 + 10] = 0;
    zeros[8 + 12 + 4 + 11] = 0;
    assert.equal(decodeSearchResponse(payload(zeros)).serverAddress, null);
    const explicit = Buffer.from(capture.searchResponse);
    explicit.set([10, 1, 2, 3], 8 + 12 + 4 + 12);
    assert.equal(decodeSearchResponse(payload(explicit)).serverAddress, '10.1.2.3');
    const v6 = Buffer.from(capture.searchResponse);
    v6.set(hex('fe80 0000 0000 0000 0000 0000 0000 0001'), 8 + 12 + 4);
    assert.equal(decodeSearchResponse(payload(v6)).serverAddress, 'fe80:0:0:0:0:0:0:1');
  });
});

describe('connection validation', () => {
  it('decodes the server’s buffer size, registry size and methods', () => {
    assert.deepEqual(decodeServerValidation(payload(capture.serverValidation)), {
      receiveBufferSize: 0x10000,
      registryMaxSize: 0x7fff,
      authMethods: ['anonymous', 'ca'],
    });
  });

  it('encodes the captured anonymous answer byte for byte', () => {
    const bytes = encode((w) =>
      encodeClientValidation(w, {
        receiveBufferSize: 0x10000,
        registryMaxSize: 0x7fff,
        qos: 0,
        method: 'anonymous',
        credentials: null,
      }),
    );
    assert.deepEqual(bytes, capture.clientValidation);
  });

  it('encodes "ca" credentials as a structure {user, host} and its values', () => {
    const bytes = encode((w) =>
      encodeClientValidation(w, {
        receiveBufferSize: 0x10000,
        registryMaxSize: 0x7fff,
        qos: 0,
        method: 'ca',
        credentials: { user: 'op', host: 'ws1' },
      }),
    );
    assert.deepEqual(
      bytes,
      hex(`ca 02 00 01 21 00 00 00 00 00 01 00 ff 7f 00 00 02 63 61
           80 00 02 04 75 73 65 72 60 04 68 6f 73 74 60 02 6f 70 03 77 73 31`),
    );
  });

  it('decodes CONNECTION_VALIDATED with status OK', () => {
    assert.equal(payload(capture.validated).status().type, 0);
  });
});

describe('channels and monitor requests', () => {
  it('encodes CREATE_CHANNEL and decodes its reply (cid 7, sid 0x07050301, OK)', () => {
    assert.deepEqual(
      encode((w) => encodeCreateChannel(w, 7, 'TST:ai')),
      capture.createChannel,
    );
    const response = decodeCreateChannelResponse(payload(capture.createChannelResponse));
    assert.equal(response.cid, 7);
    assert.equal(response.sid, 0x07050301);
    assert.equal(response.status.type, 0);
  });

  it('encodes MONITOR INIT with pvRequest field() and START byte for byte', () => {
    assert.deepEqual(
      encode((w) => encodeMonitorInit(w, 0x07050301, 0x2a)),
      capture.monitorInit,
    );
    assert.deepEqual(
      encode((w) => encodeMonitorCommand(w, 0x07050301, 0x2a, MonitorSubcommand.start)),
      capture.monitorStart,
    );
  });

  it('encodes a pipelined INIT with record._options and the window, readable by a server', () => {
    const bytes = encode((w) => encodeMonitorInit(w, 5, 6, { queueSize: 8, pipeline: true }), false);
    const request = decodeMonitorRequest(payload(bytes), new TypeRegistry());
    assert.deepEqual(request, {
      sid: 5,
      ioid: 6,
      subcommand: MonitorSubcommand.init | MonitorSubcommand.pipeline,
      options: { queueSize: 8, pipeline: true },
      count: 8,
    });
  });

  it('encodes DESTROY_REQUEST and DESTROY_CHANNEL (sid, then cid/ioid), and reads the server’s reply', () => {
    assert.deepEqual(
      encode((w) => encodeRequestIds(w, Command.destroyRequest, 0x07050301, 0x2a)),
      hex('ca 02 00 0f 08 00 00 00 01 03 05 07 2a 00 00 00'),
    );
    assert.deepEqual(
      encode((w) => encodeDestroyChannel(w, { sid: 0x07050301, cid: 7 })),
      hex('ca 02 00 08 08 00 00 00 01 03 05 07 07 00 00 00'),
    );
    assert.deepEqual(decodeDestroyChannel(payload(capture.destroyChannelReply)), { sid: 0x07050301, cid: 7 });
  });

  it('encodes ECHO with its payload; the server echoes it back', () => {
    const request = encode((w) => encodeEcho(w, Buffer.from('hello')));
    assert.deepEqual(request, hex('ca 02 00 02 05 00 00 00 68 65 6c 6c 6f'));
    assert.equal(payload(capture.echoReply).slice(5).toString(), 'hello');
  });
});

describe('introspection with cached types', () => {
  const timeStampT = hex(`fd 00 01 80 0b 74696d655374616d705f74 03
    10 7365636f6e64735061737445706f6368 23  0b 6e616e6f5365636f6e6473 22  07 75736572546167 22`);

  it('decodes the specification’s cached timeStamp_t definition and a later reference to it', () => {
    const registry = new TypeRegistry();
    const definition = decodeFieldDesc(new WireReader(timeStampT, false), registry);
    assert.deepEqual(definition, {
      kind: 'structure',
      id: 'timeStamp_t',
      fields: [
        { name: 'secondsPastEpoch', type: { kind: 'scalar', type: 'int64' } },
        { name: 'nanoSeconds', type: { kind: 'scalar', type: 'int32' } },
        { name: 'userTag', type: { kind: 'scalar', type: 'int32' } },
      ],
    });
    assert.equal(decodeFieldDesc(new WireReader(hex('fe 00 01'), false), registry), definition);
    // Cache ids are in the message byte order: the same bytes little-endian name id 256.
    assert.throws(
      () => decodeFieldDesc(new WireReader(hex('fe 00 01'), true), registry),
      /unknown cached type id 256/,
    );
  });

  it('keeps each registry to its own connection', () => {
    const registry = new TypeRegistry();
    decodeFieldDesc(new WireReader(timeStampT, false), registry);
    assert.throws(
      () => decodeFieldDesc(new WireReader(hex('fe 00 01'), false), new TypeRegistry()),
      /unknown/,
    );
  });
});
