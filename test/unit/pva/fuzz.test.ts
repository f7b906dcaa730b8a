/**
 * Property-based robustness: whatever a server sends, decoding either succeeds or fails with a PvaProtocolError
 * that closes the circuit. Nothing else may escape (no TypeError/RangeError from a missed check), nothing may
 * hang, and no garbage size may make us allocate beyond the bytes received.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type FieldDesc, TypeRegistry, decodeFieldDesc } from '../../../src/epics/pva/introspection.js';
import { beginMonitorResponse } from '../../../src/epics/pva/messages.js';
import { endMessage } from '../../../src/epics/pva/header.js';
import { decodeData } from '../../../src/epics/pva/values.js';
import { PvaProtocolError, WireReader, WireWriter } from '../../../src/epics/pva/wire.js';
import { pvaRandomMessage } from '../../support/garbage-servers.js';
import { channelHarness, FIXTURE_IOID, fixture, serverStream } from './channel-harness.js';

const handshake = Buffer.from(
  'ca02410200000000' + 'ca0240011400000000000100ff7f0209616e6f6e796d6f7573026361' + 'ca02400901000000ff',
  'hex',
);

/** The QSRV conversation up to the monitor's first update: validated, channel created, INIT answered. */
function monitorStarted(): Buffer {
  const messages = fixture('qsrv-ai').messages.filter((m) => m.from === 'server');
  return Buffer.concat(messages.slice(0, 5).map((m) => Buffer.from(m.hex, 'hex')));
}

/**
 * Feeds a stream to the client's own path (a circuit carrying a channel with its monitor), as the client does:
 * an error out of the circuit closes it and nothing more is read. Returns the errors.
 */
function decodeStream(stream: Buffer, chunk = 97): Error[] {
  const harness = channelHarness();
  for (let offset = 0; offset < stream.length; offset += chunk) {
    try {
      harness.circuit.receive(stream.subarray(offset, offset + chunk), 0);
    } catch (error) {
      harness.circuit.close(`protocol error: ${(error as Error).message}`);
      return [error as Error];
    }
  }
  return [];
}

/** A MONITOR message of the fixture's IOID with the given sub-command and random payload. */
const randomMonitorMessage = fc
  .tuple(fc.constantFrom(0x00, 0x10, 0x08), fc.uint8Array({ maxLength: 200 }))
  .map(([subcommand, payload]) => {
    const writer = new WireWriter(true);
    const start = beginMonitorResponse(writer, FIXTURE_IOID, subcommand);
    writer.bytes(payload);
    endMessage(writer, start);
    return writer.take();
  });

function assertOnlyDecodeErrors(errors: Error[]): void {
  assert.ok(errors.length <= 1, 'a circuit reports at most one error (it closes)');
  for (const error of errors)
    assert.ok(error instanceof PvaProtocolError, `unexpected ${error.name}: ${error.message}`);
}

describe('fuzzing the decoders', () => {
  it('survives random bytes after a valid handshake', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (garbage) => {
        assertOnlyDecodeErrors(decodeStream(Buffer.concat([handshake, garbage])));
      }),
      { numRuns: 500 },
    );
  });

  it('survives random monitor responses to a running monitor', () => {
    const started = monitorStarted();
    assert.deepEqual(decodeStream(started), [], 'the start of the conversation decodes cleanly');
    fc.assert(
      fc.property(fc.array(randomMonitorMessage, { maxLength: 20 }), (messages) => {
        assertOnlyDecodeErrors(decodeStream(Buffer.concat([started, ...messages])));
      }),
      { numRuns: 500 },
    );
  });

  it('survives random messages with valid headers and random payloads', () => {
    fc.assert(
      fc.property(fc.array(pvaRandomMessage, { maxLength: 20 }), (messages) => {
        assertOnlyDecodeErrors(decodeStream(Buffer.concat([handshake, ...messages])));
      }),
      { numRuns: 500 },
    );
  });

  it('survives corrupted real QSRV conversations', () => {
    const streams = ['qsrv-ai', 'qsrv-mbbi', 'qsrv-wf-int64'].map((name) => serverStream(fixture(name)));
    assert.deepEqual(decodeStream(streams[0] as Buffer), [], 'the uncorrupted stream decodes cleanly');
    fc.assert(
      fc.property(
        fc.constantFrom(...streams),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 500 }),
        (stream, flips, chunk) => {
          const corrupted = Buffer.from(stream);
          for (const [position, value] of flips) corrupted[position % corrupted.length] = value;
          assertOnlyDecodeErrors(decodeStream(corrupted, chunk));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decodes random type descriptions and values or rejects them with PvaProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, littleEndian) => {
        const reader = new WireReader(Buffer.from(bytes), littleEndian);
        const registry = new TypeRegistry();
        try {
          const type: FieldDesc | null = decodeFieldDesc(reader, registry);
          if (type) decodeData(reader, type, registry);
        } catch (error) {
          assert.ok(error instanceof PvaProtocolError, String(error));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('does not allocate for counts the remaining bytes cannot hold', () => {
    // A double array claiming 2^30 elements in a 10-byte message.
    const reader = new WireReader(Buffer.from('fe00000040000000000000', 'hex'));
    assert.throws(
      () => decodeData(reader, { kind: 'scalarArray', type: 'float64' }, new TypeRegistry()),
      /exceeds the 6 bytes left/,
    );
  });
});
