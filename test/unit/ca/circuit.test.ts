import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Circuit, type CircuitChannel } from '../../../src/epics/ca/circuit.js';
import { CaProtocolError, encodeEventAdd, encodeMessage } from '../../../src/epics/ca/messages.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** A channel that records what the circuit tells it. */
function recordingChannel(cid: number): CircuitChannel & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  const record =
    (name: string) =>
    (...args: unknown[]): void => {
      calls.push([name, ...args.map((arg) => (Buffer.isBuffer(arg) ? arg.toString('hex') : arg))]);
    };
  return {
    cid,
    calls,
    onAccessRights: record('accessRights'),
    onCreated: record('created'),
    onCreateFailed: record('createFailed'),
    onServerDisconnect: record('serverDisconnect'),
    onEventData: record('eventData'),
    onEventError: record('eventError'),
    onReadData: record('readData'),
    onResponsiveChange: record('responsive'),
    onCircuitLost: record('lost'),
  };
}

function openCircuit(): { circuit: Circuit; written: Buffer[] } {
  const written: Buffer[] = [];
  const circuit = new Circuit(
    '127.0.0.1',
    5064,
    { write: (data) => written.push(data), close: () => undefined },
    {
      serverMinor: 13,
      maxPayloadBytes: 1 << 20,
      now: 0,
      identity: { user: 'root', host: 'vm' },
    },
  );
  return { circuit, written };
}

describe('CA circuit state machine', () => {
  it('opens with VERSION, CLIENT_NAME and HOST_NAME, then CREATE_CHAN, as libca does', () => {
    const { circuit, written } = openCircuit();
    circuit.addChannel(recordingChannel(1), 'TEST:AI');
    assert.deepEqual(
      Buffer.concat(written),
      hex(`00 00 00 00 00 00 00 0d 00 00 00 00 00 00 00 00
           00 14 00 08 00 00 00 00 00 00 00 00 00 00 00 00 72 6f 6f 74 00 00 00 00
           00 15 00 08 00 00 00 00 00 00 00 00 00 00 00 00 76 6d 00 00 00 00 00 00
           00 12 00 08 00 00 00 00 00 00 00 01 00 00 00 0d 54 45 53 54 3a 41 49 00`),
    );
  });

  it('routes ACCESS_RIGHTS and the CREATE_CHAN reply by CID, and updates by subscription id', () => {
    const { circuit, written } = openCircuit();
    const channel = recordingChannel(1);
    circuit.addChannel(channel, 'TEST:AI');
    circuit.receive(
      Buffer.concat([
        encodeMessage(0, 0, 13, 0, 0),
        encodeMessage(22, 0, 0, 1, 3),
        encodeMessage(18, 6, 1, 1, 77),
        encodeMessage(22, 0, 0, 99, 3), // another (unknown) CID: ignored
      ]),
    );
    assert.deepEqual(channel.calls, [
      ['accessRights', 3],
      ['created', 77, 6, 1],
    ]);
    written.length = 0;
    circuit.subscribe(channel, 77, 1, 20, 0, 5);
    assert.deepEqual(written[0], encodeEventAdd(77, 1, 20, 0, 5));
    circuit.receive(
      hex(`00 01 00 18 00 14 00 01 00 00 00 01 00 00 00 01
           00 04 00 01 45 66 1b ec 07 5b cd 15 00 00 00 00 40 0a 00 00 00 00 00 00`),
    );
    assert.deepEqual(channel.calls.at(-1), [
      'eventData',
      1,
      20,
      1,
      1,
      '0004000145661bec075bcd1500000000400a000000000000',
    ]);
    const before = channel.calls.length;
    circuit.receive(encodeMessage(1, 20, 0, 1, 1)); // size-0 reply: cancel acknowledgement
    circuit.receive(encodeMessage(1, 20, 1, 1, 42, Buffer.alloc(24))); // unknown subscription: ignored
    assert.equal(channel.calls.length, before);
  });

  it('routes ERROR by the embedded request: EVENT_ADD by subscription id, CREATE_CHAN by CID', () => {
    const { circuit } = openCircuit();
    const channel = recordingChannel(5);
    circuit.addChannel(channel, 'PV');
    circuit.subscribe(channel, 9, 11, 20, 0, 5);
    const eventAdd = encodeEventAdd(9, 11, 20, 100_000, 5).subarray(0, 24);
    circuit.receive(encodeMessage(11, 0, 0, 5, 72, Buffer.concat([eventAdd, Buffer.from('too big\0')])));
    const createChan = encodeMessage(18, 0, 0, 5, 13);
    circuit.receive(encodeMessage(11, 0, 0, 5, 168, Buffer.concat([createChan, Buffer.from('no\0')])));
    assert.deepEqual(channel.calls, [
      ['eventError', 11, 72, 'ECA_TOLARGE: too big'],
      ['createFailed', 'ECA_ADDFAIL: no'],
    ]);
  });

  it('passes SERVER_DISCONN and CREATE_CH_FAIL to the channel, and reports circuit loss once', () => {
    const { circuit } = openCircuit();
    const channel = recordingChannel(3);
    circuit.addChannel(channel, 'PV');
    circuit.receive(Buffer.concat([encodeMessage(26, 0, 0, 3, 0), encodeMessage(27, 0, 0, 3, 0)]));
    circuit.close('gone');
    circuit.close('again');
    assert.deepEqual(channel.calls, [
      ['createFailed', 'the server refused to create the channel'],
      ['serverDisconnect'],
      ['lost', 'gone'],
    ]);
  });

  it('throws CaProtocolError for commands and native types no server sends', () => {
    assert.throws(() => openCircuit().circuit.receive(encodeMessage(99, 0, 0, 0, 0)), CaProtocolError);
    assert.throws(() => openCircuit().circuit.receive(encodeMessage(18, 7, 1, 1, 1)), CaProtocolError);
    assert.throws(() => openCircuit().circuit.receive(encodeMessage(6, 5064, 0, 0, 1)), CaProtocolError);
  });

  it('sends ECHO after the idle time, reports unresponsive after the echo timeout, dead after the limit', () => {
    const { circuit, written } = openCircuit();
    const channel = recordingChannel(1);
    circuit.addChannel(channel, 'PV');
    const times = { idleMs: 30_000, echoTimeoutMs: 5000, deadMs: 60_000 };
    written.length = 0;
    assert.equal(circuit.checkLiveness(10_000, times), 'alive');
    assert.equal(circuit.checkLiveness(30_000, times), 'echo-sent');
    assert.deepEqual(written, [encodeMessage(23, 0, 0, 0, 0)]);
    assert.equal(circuit.checkLiveness(34_000, times), 'echo-sent');
    assert.equal(circuit.checkLiveness(35_000, times), 'unresponsive');
    assert.deepEqual(channel.calls, [['responsive', false]]);
    circuit.receive(encodeMessage(23, 0, 0, 0, 0));
    assert.equal(circuit.checkLiveness(36_000, times), 'alive');
    assert.deepEqual(channel.calls.at(-1), ['responsive', true]);
    assert.equal(circuit.checkLiveness(96_000, times), 'dead');
  });
});
