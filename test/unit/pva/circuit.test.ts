/**
 * The connection state machine without sockets: bytes in, bytes out, events to a listener.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Circuit, type CircuitListener } from '../../../src/epics/pva/circuit.js';
import { encodeServerValidation, encodeStatusMessage } from '../../../src/epics/pva/messages.js';
import { Command } from '../../../src/epics/pva/protocol.js';
import { OK_STATUS, WireWriter } from '../../../src/epics/pva/wire.js';
import { silentLogger } from '../../../src/logging/logger.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

const setByteOrderLE = hex('ca 02 41 02 00 00 00 00');
const setByteOrderBE = hex('ca 02 c1 02 00 00 00 00');
const serverValidation = hex(
  'ca 02 40 01 14 00 00 00 00 00 01 00 ff 7f 02 09 61 6e 6f 6e 79 6d 6f 75 73 02 63 61',
);
const validated = hex('ca 02 40 09 01 00 00 00 ff');

function harness(): { circuit: Circuit; events: string[]; errors: Error[] } {
  const events: string[] = [];
  const errors: Error[] = [];
  const listener: CircuitListener = {
    onReady: () => events.push('ready'),
    onCreateChannel: (_c, r) => events.push(`create ${r.cid}/${r.sid}`),
    onDestroyChannel: (_c, ids) => events.push(`destroy ${ids.sid}/${ids.cid}`),
    onMonitor: (_c, ioid, subcommand) => events.push(`monitor ${ioid} ${subcommand}`),
    onSearchResponse: (_c, r) => events.push(`search ${r.channelIds.join(',')}`),
    onServerMessage: (_c, m) => events.push(`message ${m.text}`),
    onProtocolError: (_c, error) => errors.push(error),
  };
  const circuit = new Circuit('127.0.0.1:5075', listener, {
    credentials: { user: 'op', host: 'ws1' },
    logger: silentLogger,
  });
  circuit.connected(0);
  return { circuit, events, errors };
}

describe('circuit handshake (spec §5)', () => {
  it('answers the server’s validation with "ca" credentials when offered, then becomes ready', () => {
    const { circuit, events } = harness();
    circuit.receive(Buffer.concat([setByteOrderLE, serverValidation]), 0);
    assert.equal(circuit.state, 'validating');
    assert.deepEqual(
      circuit.takeOutput(),
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

  it('sends in the byte order SET_BYTE_ORDER announced', () => {
    const { circuit } = harness();
    const writer = new WireWriter(false);
    encodeServerValidation(writer, {
      receiveBufferSize: 0x10000,
      registryMaxSize: 0x7fff,
      authMethods: ['anonymous'],
    });
    encodeStatusMessage(writer, Command.connectionValidated, OK_STATUS);
    circuit.receive(Buffer.concat([setByteOrderBE, writer.take()]), 0);
    circuit.takeOutput();
    circuit.createChannel(7, 'TST:ai');
    assert.deepEqual(
      circuit.takeOutput(),
      hex('ca 02 80 07 00 00 00 0d 00 01 00 00 00 07 06 54 53 54 3a 61 69'),
    );
  });
});

describe('circuit messages once ready', () => {
  function ready(): ReturnType<typeof harness> {
    const h = harness();
    h.circuit.receive(Buffer.concat([setByteOrderLE, serverValidation, validated]), 0);
    h.circuit.takeOutput();
    h.events.length = 0;
    return h;
  }

  it('reports CREATE_CHANNEL, MONITOR, DESTROY_CHANNEL and MESSAGE, and ignores echo replies', () => {
    const { circuit, events, errors } = ready();
    circuit.receive(
      Buffer.concat([
        hex('ca 02 40 07 09 00 00 00 07 00 00 00 01 03 05 07 ff'),
        hex('ca 02 40 0d 05 00 00 00 2a 00 00 00 00'),
        hex('ca 02 40 02 05 00 00 00 68 65 6c 6c 6f'),
        hex('ca 02 40 12 0a 00 00 00 2a 00 00 00 01 04 6f 6f 70 73'),
        hex('ca 02 40 08 08 00 00 00 01 03 05 07 07 00 00 00'),
      ]),
      0,
    );
    assert.deepEqual(events, ['create 7/117768961', 'monitor 42 0', 'message oops', 'destroy 117768961/7']);
    assert.deepEqual(errors, []);
  });

  it('encodes the requests of a monitor’s life', () => {
    const { circuit } = ready();
    circuit.monitorInit(0x07050301, 0x2a, {});
    circuit.monitorStart(0x07050301, 0x2a);
    circuit.monitorAck(0x07050301, 0x2a, 2);
    circuit.destroyRequest(0x07050301, 0x2a);
    circuit.destroyChannel(0x07050301, 7);
    assert.deepEqual(
      circuit.takeOutput(),
      Buffer.concat([
        hex('ca 02 00 0d 15 00 00 00 01 03 05 07 2a 00 00 00 08 80 00 01 05 66 69 65 6c 64 80 00 00'),
        hex('ca 02 00 0d 09 00 00 00 01 03 05 07 2a 00 00 00 44'),
        hex('ca 02 00 0d 0d 00 00 00 01 03 05 07 2a 00 00 00 80 02 00 00 00'),
        hex('ca 02 00 0f 08 00 00 00 01 03 05 07 2a 00 00 00'),
        hex('ca 02 00 08 08 00 00 00 01 03 05 07 07 00 00 00'),
      ]),
    );
  });

  it('echoes every echo interval and reports a silent server after the idle timeout', () => {
    const { circuit } = ready();
    assert.ok(circuit.checkAlive(10_000, 40_000, 15_000));
    assert.equal(circuit.takeOutput(), undefined);
    assert.ok(circuit.checkAlive(15_000, 40_000, 15_000));
    assert.deepEqual(circuit.takeOutput(), hex('ca 02 00 02 00 00 00 00'));
    circuit.receive(hex('ca 02 40 02 00 00 00 00'), 20_000);
    assert.ok(circuit.checkAlive(59_000, 40_000, 15_000));
    assert.equal(circuit.checkAlive(60_001, 40_000, 15_000), false);
  });
});

describe('circuit protocol errors', () => {
  it('closes on garbage, reports it once, and ignores everything after', () => {
    const { circuit, errors } = harness();
    circuit.receive(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), 0);
    assert.equal(circuit.state, 'closed');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /bad magic/);
    circuit.receive(Buffer.concat([setByteOrderLE, serverValidation]), 0);
    assert.equal(errors.length, 1);
    assert.equal(circuit.takeOutput(), undefined);
  });

  it('rejects channel traffic before validation and a second validation', () => {
    const early = harness();
    early.circuit.receive(hex('ca 02 40 07 09 00 00 00 07 00 00 00 01 03 05 07 ff'), 0);
    assert.match(early.errors[0]?.message ?? '', /before the connection was validated/);
    const twice = harness();
    twice.circuit.receive(Buffer.concat([setByteOrderLE, serverValidation, validated, validated]), 0);
    assert.match(twice.errors[0]?.message ?? '', /unexpected CONNECTION_VALIDATED/);
  });
});
