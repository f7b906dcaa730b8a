/**
 * Property-based robustness: whatever a server sends, decoding either succeeds or fails with a PvaProtocolError
 * that closes the circuit. Nothing else may escape (no TypeError/RangeError from a missed check), nothing may
 * hang, and no garbage size may make us allocate beyond the bytes received.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitSet } from '../../../src/epics/pva/bitset.js';
import { Circuit, type CircuitListener } from '../../../src/epics/pva/circuit.js';
import { type FieldDesc, TypeRegistry, decodeFieldDesc } from '../../../src/epics/pva/introspection.js';
import { MonitorSubcommand } from '../../../src/epics/pva/protocol.js';
import { NormativeMapper } from '../../../src/epics/pva/normative.js';
import { StructureLayout, StructureStore, decodeData, decodeDelta } from '../../../src/epics/pva/values.js';
import { PvaProtocolError, WireReader } from '../../../src/epics/pva/wire.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { pvaRandomMessage } from '../../support/garbage-servers.js';

const handshake = Buffer.from(
  'ca02410200000000' + 'ca0240011400000000000100ff7f0209616e6f6e796d6f7573026361' + 'ca02400901000000ff',
  'hex',
);

function captureStream(name: string): Buffer {
  const path = join(import.meta.dirname, 'fixtures', `${name}.json`);
  const fixture = JSON.parse(readFileSync(path, 'utf8')) as { messages: { from: string; hex: string }[] };
  return Buffer.concat(
    fixture.messages.filter((m) => m.from === 'server').map((m) => Buffer.from(m.hex, 'hex')),
  );
}

/** A circuit whose listener decodes monitors like the client does; returns the errors it reported. */
function decodeStream(stream: Buffer, chunk = 97): Error[] {
  const errors: Error[] = [];
  let store: StructureStore | undefined;
  let mapper: NormativeMapper | undefined;
  const listener: CircuitListener = {
    onReady: () => undefined,
    onCreateChannel: () => undefined,
    onDestroyChannel: () => undefined,
    onMonitor: (circuit, _ioid, subcommand, reader) => {
      if (subcommand & MonitorSubcommand.init) {
        reader.status();
        const type = decodeFieldDesc(reader, circuit.rxTypes);
        if (type?.kind !== 'structure') throw new PvaProtocolError('not a structure');
        store = new StructureStore(new StructureLayout(type));
        mapper = new NormativeMapper(store.layout);
      } else if (store && mapper) {
        decodeDelta(reader, store, circuit.rxTypes, new BitSet(), new BitSet());
        mapper.map(store);
      }
    },
    onSearchResponse: () => undefined,
    onServerMessage: () => undefined,
    onProtocolError: (_c, error) => errors.push(error),
  };
  const circuit = new Circuit('fuzz', listener, {
    credentials: { user: 'u', host: 'h' },
    logger: silentLogger,
  });
  circuit.connected(0);
  for (let offset = 0; offset < stream.length; offset += chunk) {
    circuit.receive(stream.subarray(offset, offset + chunk), 0);
  }
  return errors;
}

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

  it('survives random messages with valid headers and random payloads', () => {
    fc.assert(
      fc.property(fc.array(pvaRandomMessage, { maxLength: 20 }), (messages) => {
        assertOnlyDecodeErrors(decodeStream(Buffer.concat([handshake, ...messages])));
      }),
      { numRuns: 500 },
    );
  });

  it('survives corrupted real QSRV conversations', () => {
    const streams = ['qsrv-ai', 'qsrv-mbbi', 'qsrv-wf-int64'].map(captureStream);
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
