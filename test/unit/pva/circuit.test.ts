/**
 * The circuit state machine without sockets: bytes in, requests out, what the server says routed to channels.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PvaStatus } from '../../../src/epics/pva/wire.js';
import type { Circuit, CircuitChannel } from '../../../src/epics/pva/circuit.js';
import { encodeServerValidation, encodeStatusMessage } from '../../../src/epics/pva/messages.js';
import { LayoutCache, MonitorOperation } from '../../../src/epics/pva/monitor.js';
import { Command } from '../../../src/epics/pva/protocol.js';
import { OK_STATUS, PvaProtocolError, WireWriter } from '../../../src/epics/pva/wire.js';
import { recordingCircuit } from './channel-harness.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

const setByteOrderLE = hex('ca 02 41 02 00 00 00 00');
const setByteOrderBE = hex('ca 02 c1 02 00 00 00 00');
const serverValidation = hex(
  'ca 02 40 01 14 00 00 00 00 00 01 00 ff 7f 02 09 61 6e 6f 6e 79 6d 6f 75 73 02 63 61',
);
const validated = hex('ca 02 40 09 01 00 00 00 ff');
const SID = 0x07050301;

/** A channel that records what the circuit tells it. */
function recordingChannel(cid: number, name = 'TST:ai'): CircuitChannel & { calls: string[] } {
  const calls: string[] = [];
  return {
    cid,
    name,
    calls,
    onCreated: (sid) => calls.push(`created ${sid.toString(16)}`),
    onCreateFailed: (status: PvaStatus) => calls.push(`create failed ${status.message}`),
    onDestroyed: () => calls.push('destroyed'),
    onMonitorStarted: (monitor) => calls.push(`started ${monitor.ioid}`),
    onMonitorUpdate: (monitor) => calls.push(`update ${monitor.ioid}`),
    onMonitorEnded: (monitor, status) => calls.push(`ended ${monitor.ioid} ${status.type}`),
    onCircuitLost: (reason) => calls.push(`lost ${reason}`),
  };
}

function harness(): { circuit: Circuit; events: string[]; written: Buffer[] } {
  const events: string[] = [];
  const written: Buffer[] = [];
  return { circuit: recordingCircuit(events, written), events, written };
}

function ready(): ReturnType<typeof harness> {
  const h = harness();
  h.circuit.receive(Buffer.concat([setByteOrderLE, serverValidation, validated]), 0);
  h.written.length = 0;
  h.events.length = 0;
  return h;
}

const monitor = (ioid: number, pipeline = false): MonitorOperation =>
  new MonitorOperation(ioid, pipeline ? { pipeline: true, queueSize: 4 } : {}, new LayoutCache());

/** MONITOR INIT reply of `ioid`: OK status and an NTScalar-like structure with one double `value`. */
const initReply = (ioid: number): Buffer =>
  Buffer.concat([
    hex(`ca 02 40 0d 10 00 00 00`),
    Buffer.from([ioid, 0, 0, 0]),
    hex('08 ff 80 00 01 05 76 61 6c 75 65 43'),
  ]);

/** MONITOR update of `ioid` setting `value` (bit 1) to 1.5, nothing overrun. */
const updateReply = (ioid: number): Buffer =>
  Buffer.concat([
    hex('ca 02 40 0d 10 00 00 00'),
    Buffer.from([ioid, 0, 0, 0]),
    hex('00 01 02 00 00 00 00 00 00 f8 3f 00'),
  ]);

describe('circuit handshake', () => {
  it('answers the server’s validation with "ca" credentials when offered, then becomes ready', () => {
    const { circuit, events, written } = harness();
    circuit.receive(Buffer.concat([setByteOrderLE, serverValidation]), 0);
    assert.equal(circuit.state, 'validating');
    assert.deepEqual(
      Buffer.concat(written),
      hex(`ca 02 00 01 21 00 00 00 00 00 01 00 ff 7f 00 00 02 63 61
           80 00 02 04 75 73 65 72 60 04 68 6f 73 74 60 02 6f 70 03 77 73 31`),
    );
    circuit.receive(validated, 0);
    assert.equal(circuit.state, 'ready');
    assert.equal(circuit.authMethod, 'ca');
    assert.deepEqual(events, ['ready']);
  });

  it('answers anonymously when "ca" is not offered, and proceeds when credentials are refused', () => {
    const { circuit, events } = harness();
    const writer = new WireWriter(true);
    encodeServerValidation(writer, { receiveBufferSize: 1, registryMaxSize: 1, authMethods: ['anonymous'] });
    encodeStatusMessage(writer, Command.connectionValidated, { type: 2, message: 'denied', callTree: '' });
    circuit.receive(Buffer.concat([setByteOrderLE, writer.take()]), 0);
    assert.equal(circuit.authMethod, 'anonymous');
    assert.equal(circuit.state, 'ready');
    assert.deepEqual(events, ['ready']);
  });

  it('creates channels added before validation once ready, in the byte order SET_BYTE_ORDER announced', () => {
    const { circuit, written } = harness();
    circuit.addChannel(recordingChannel(7, 'TST:ai'));
    const writer = new WireWriter(false);
    encodeServerValidation(writer, {
      receiveBufferSize: 0x10000,
      registryMaxSize: 0x7fff,
      authMethods: ['anonymous'],
    });
    encodeStatusMessage(writer, Command.connectionValidated, OK_STATUS);
    circuit.receive(Buffer.concat([setByteOrderBE, writer.take()]), 0);
    assert.deepEqual(written.at(-1), hex('ca 02 80 07 00 00 00 0d 00 01 00 00 00 07 06 54 53 54 3a 61 69'));
  });
});

describe('circuit messages once ready', () => {
  it('routes CREATE_CHANNEL, MONITOR, MESSAGE and DESTROY_CHANNEL to the channel, and ignores echo replies', () => {
    const { circuit, events, written } = ready();
    const channel = recordingChannel(7);
    circuit.addChannel(channel);
    circuit.receive(hex('ca 02 40 07 09 00 00 00 07 00 00 00 01 03 05 07 ff'), 0);
    circuit.startMonitor(channel, SID, monitor(0x2a));
    circuit.receive(
      Buffer.concat([
        initReply(0x2a),
        updateReply(0x2a),
        hex('ca 02 40 02 05 00 00 00 68 65 6c 6c 6f'),
        hex('ca 02 40 12 0a 00 00 00 2a 00 00 00 01 04 6f 6f 70 73'),
        hex('ca 02 40 08 08 00 00 00 01 03 05 07 07 00 00 00'),
      ]),
      0,
    );
    assert.deepEqual(channel.calls, ['created 7050301', 'started 42', 'update 42', 'destroyed']);
    assert.deepEqual(events, ['message oops (TST:ai)']);
    assert.equal(circuit.channelCount, 0);
    // CREATE_CHANNEL, INIT, and START after the INIT reply.
    assert.deepEqual(written.at(-1), hex('ca 02 00 0d 09 00 00 00 01 03 05 07 2a 00 00 00 44'));
  });

  it('encodes the requests of a monitor’s life, acknowledging half a pipeline window at a time', () => {
    const { circuit, written } = ready();
    const channel = recordingChannel(7);
    circuit.addChannel(channel);
    circuit.receive(hex('ca 02 40 07 09 00 00 00 07 00 00 00 01 03 05 07 ff'), 0);
    written.length = 0;
    const operation = monitor(0x2a, true);
    circuit.startMonitor(channel, SID, operation);
    circuit.receive(Buffer.concat([initReply(0x2a), updateReply(0x2a), updateReply(0x2a)]), 0);
    circuit.stopMonitor(operation, true);
    circuit.removeChannel(channel, SID, true);
    const [init, start, ack, destroyRequest, destroyChannel] = written.map((request) =>
      request.toString('hex'),
    );
    assert.match(init ?? '', /^ca02000d.{8}010305072a00000088.*04000000$/, 'INIT with pipeline, window 4');
    assert.equal(start, 'ca02000d09000000010305072a00000044');
    assert.equal(ack, 'ca02000d0d000000010305072a0000008002000000', 'ACK of 2 updates');
    assert.equal(destroyRequest, 'ca02000f08000000010305072a000000');
    assert.equal(destroyChannel, 'ca0200080800000001030507' + '07000000');
    assert.equal(written.length, 5);
  });

  it('releases a channel created for nobody, and reports a refused one', () => {
    const { circuit, written } = ready();
    const refused = recordingChannel(8);
    circuit.addChannel(refused);
    written.length = 0;
    circuit.receive(hex('ca 02 40 07 09 00 00 00 09 00 00 00 01 03 05 07 ff'), 0);
    assert.deepEqual(written, [hex('ca 02 00 08 08 00 00 00 01 03 05 07 09 00 00 00')]);
    circuit.receive(hex('ca 02 40 07 0f 00 00 00 08 00 00 00 00 00 00 00 02 04 6e 6f 70 65 00'), 0);
    assert.deepEqual(refused.calls, ['create failed nope']);
    assert.equal(circuit.channelCount, 0);
  });

  it('echoes every echo interval and reports a silent server after the idle timeout', () => {
    const { circuit, written } = ready();
    const times = { idleTimeoutMs: 40_000, echoIntervalMs: 15_000 };
    assert.equal(circuit.checkLiveness(10_000, times), 'alive');
    assert.deepEqual(written, []);
    assert.equal(circuit.checkLiveness(15_000, times), 'alive');
    assert.deepEqual(written, [hex('ca 02 00 02 00 00 00 00')]);
    circuit.receive(hex('ca 02 40 02 00 00 00 00'), 20_000);
    assert.equal(circuit.checkLiveness(59_000, times), 'alive');
    assert.equal(circuit.checkLiveness(60_001, times), 'dead');
  });

  it('tells its channels when it closes', () => {
    const { circuit } = ready();
    const channel = recordingChannel(7);
    circuit.addChannel(channel);
    circuit.close('connection reset');
    circuit.close('again');
    assert.deepEqual(channel.calls, ['lost connection reset']);
  });
});

describe('circuit protocol errors', () => {
  it('throws on garbage; once closed, ignores everything after', () => {
    const { circuit, written } = harness();
    assert.throws(() => circuit.receive(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), 0), {
      name: 'PvaProtocolError',
      message: /bad magic/,
    });
    circuit.close('protocol error');
    circuit.receive(Buffer.concat([setByteOrderLE, serverValidation]), 0);
    assert.deepEqual(written, []);
  });

  it('rejects channel traffic before validation and a second validation', () => {
    const early = harness();
    assert.throws(
      () => early.circuit.receive(hex('ca 02 40 07 09 00 00 00 07 00 00 00 01 03 05 07 ff'), 0),
      /before the connection was validated/,
    );
    const twice = harness();
    assert.throws(
      () => twice.circuit.receive(Buffer.concat([setByteOrderLE, serverValidation, validated, validated]), 0),
      (error: unknown) =>
        error instanceof PvaProtocolError && /unexpected CONNECTION_VALIDATED/.test(error.message),
    );
  });

  it('rejects a monitor update before its INIT reply', () => {
    const { circuit } = ready();
    const channel = recordingChannel(7);
    circuit.addChannel(channel);
    circuit.receive(hex('ca 02 40 07 09 00 00 00 07 00 00 00 01 03 05 07 ff'), 0);
    circuit.startMonitor(channel, SID, monitor(0x2a));
    assert.throws(() => circuit.receive(updateReply(0x2a), 0), /before its INIT reply/);
  });
});
