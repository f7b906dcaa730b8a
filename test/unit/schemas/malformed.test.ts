/**
 * Malformed input: truncated buffers, wrong or unknown identifiers, random bytes, corrupted messages, offsets and
 * lengths pointing outside the buffer. Decoding either succeeds or throws a SchemaDecodeError, promptly; nothing
 * else escapes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Builder } from 'flatbuffers';
import { SchemaDecodeError, type SchemaDecodeFailure } from '../../../src/schemas/errors.js';
import { deserialiseF142, serialiseF142 } from '../../../src/schemas/f142.js';
import { deserialiseF144, serialiseF144 } from '../../../src/schemas/f144.js';
import { deserialiseFc00, serialiseFc00 } from '../../../src/schemas/fc00.js';
import { LogData } from '../../../src/schemas/generated/f142/log-data.js';
import { Value } from '../../../src/schemas/generated/f142/value.js';
import { ArrayString } from '../../../src/schemas/generated/f142/array-string.js';
import { deserialiseAny, type FileIdentifier, SCHEMA_READERS } from '../../../src/schemas/registry.js';
import { anyMessage, serialiseDecoded } from './helpers.js';

const IDENTIFIERS = Object.keys(SCHEMA_READERS) as FileIdentifier[];

/** Runs a decoder; a SchemaDecodeError counts as a clean rejection, any other exception fails the test. */
function decodesOrRejects(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof SchemaDecodeError)) throw error;
  }
}

function rejects(decode: () => unknown, reason: SchemaDecodeFailure): void {
  assert.throws(decode, (error) => error instanceof SchemaDecodeError && error.reason === reason);
}

const f144 = serialiseF144({
  sourceName: 'pv:a',
  timestampNs: 1585332414000000000n,
  value: { kind: 'array', type: 'float64', value: Float64Array.of(1.5, 2.5) },
});

/** Position of the root table and of field `id` in it, read from a buffer we built. */
function fieldPosition(bytes: Uint8Array, id: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const table = view.getUint32(0, true);
  const vtable = table - view.getInt32(table, true);
  return table + view.getUint16(vtable + 4 + 2 * id, true);
}

function patched(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

describe('malformed buffers', () => {
  it('rejects buffers shorter than the identifier', () => {
    for (let length = 0; length < 8; length++) {
      const bytes = new Uint8Array(length);
      rejects(() => deserialiseAny(bytes), 'short-buffer');
      for (const identifier of IDENTIFIERS)
        rejects(() => SCHEMA_READERS[identifier].deserialise(bytes), 'short-buffer');
    }
  });

  it('rejects a wrong identifier and an unknown one', () => {
    rejects(() => deserialiseF142(f144), 'wrong-identifier');
    const unknown = f144.slice();
    unknown.set([0x7a, 0x7a, 0x7a, 0x7a], 4);
    rejects(() => deserialiseAny(unknown), 'unknown-identifier');
    assert.throws(() => deserialiseAny(unknown), /no schema with file identifier "zzzz"/);
  });

  it('rejects offsets outside the buffer', () => {
    rejects(() => deserialiseF144(patched(f144, 0, 0xfffffff0)), 'out-of-bounds');
    rejects(() => deserialiseF144(patched(f144, 0, f144.length - 2)), 'out-of-bounds');
    const table = new DataView(f144.buffer).getUint32(0, true);
    rejects(() => deserialiseF144(patched(f144, table, 0x7ffffff0)), 'out-of-bounds');
    rejects(() => deserialiseF144(patched(f144, fieldPosition(f144, 0), 0x100000)), 'out-of-bounds');
  });

  it('rejects vector and string lengths beyond the buffer without allocating them', () => {
    const valueTable =
      fieldPosition(f144, 3) + new DataView(f144.buffer).getUint32(fieldPosition(f144, 3), true);
    const vectorField = valueTable + 4;
    const vector = vectorField + new DataView(f144.buffer).getUint32(vectorField, true);
    rejects(() => deserialiseF144(patched(f144, vector, 0x7fffffff)), 'out-of-bounds');
    const name = fieldPosition(f144, 0) + new DataView(f144.buffer).getUint32(fieldPosition(f144, 0), true);
    rejects(() => deserialiseF144(patched(f144, name, 0xffffffff)), 'out-of-bounds');

    const config = serialiseFc00({
      configChange: 0,
      streams: [{ channel: 'a', schema: 'f144', topic: 't', protocol: 0, periodic: 0 }],
    });
    const streams =
      fieldPosition(config, 1) + new DataView(config.buffer).getUint32(fieldPosition(config, 1), true);
    rejects(() => deserialiseFc00(patched(config, streams, 0x40000000)), 'out-of-bounds');
  });

  it('rejects invalid UTF-8, unknown or missing union members and broken vtables', () => {
    const name = fieldPosition(f144, 0) + new DataView(f144.buffer).getUint32(fieldPosition(f144, 0), true);
    const badText = f144.slice();
    badText[name + 4] = 0xff;
    rejects(() => deserialiseF144(badText), 'malformed');

    for (const tag of [0, 21, 99]) {
      const badTag = f144.slice();
      badTag[fieldPosition(f144, 2)] = tag;
      rejects(() => deserialiseF144(badTag), 'malformed');
    }

    const table = new DataView(f144.buffer).getUint32(0, true);
    const vtable = table - new DataView(f144.buffer).getInt32(table, true);
    const oddVtable = f144.slice();
    oddVtable[vtable] = 7;
    rejects(() => deserialiseF144(oddVtable), 'malformed');
  });

  it('refuses a small buffer whose strings expand to many times its size', () => {
    const builder = new Builder(256);
    builder.forceDefaults(true);
    const name = builder.createString('pv');
    const shared = builder.createString('x'.repeat(1000));
    ArrayString.startValueVector(builder, 100);
    for (let i = 0; i < 100; i++) builder.addOffset(shared);
    const vector = builder.endVector();
    const member = ArrayString.createArrayString(builder, vector);
    LogData.startLogData(builder);
    LogData.addSourceName(builder, name);
    LogData.addValue(builder, member);
    LogData.addValueType(builder, Value.ArrayString);
    builder.finish(LogData.endLogData(builder), 'f142');
    const bomb = builder.asUint8Array().slice();
    assert.ok(bomb.length < 2000);
    rejects(() => deserialiseF142(bomb), 'malformed');
  });

  it('random bytes decode or are rejected, under any identifier', { timeout: 60_000 }, () => {
    const identifier = fc.constantFrom(...IDENTIFIERS);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), identifier, fc.nat(400), (bytes, schema, root) => {
        decodesOrRejects(() => deserialiseAny(bytes));
        if (bytes.length < 8) return;
        const forced = bytes.slice();
        new DataView(forced.buffer).setUint32(0, root, true);
        forced.set(Buffer.from(schema), 4);
        decodesOrRejects(() => deserialiseAny(forced));
        decodesOrRejects(() => SCHEMA_READERS[schema].deserialise(forced));
      }),
      { numRuns: 3000 },
    );
  });

  it('truncated and corrupted messages decode or are rejected', { timeout: 60_000 }, () => {
    const corruption = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(anyMessage, corruption, fc.nat(), (message, changes, cut) => {
        const bytes = serialiseDecoded(message);
        decodesOrRejects(() => deserialiseAny(bytes.subarray(0, cut % bytes.length)));
        const corrupted = bytes.slice();
        for (const [at, value] of changes) corrupted[at % corrupted.length] = value;
        decodesOrRejects(() => deserialiseAny(corrupted));
      }),
      { numRuns: 3000 },
    );
  });

  it('every truncation of every schema is rejected or decodes', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        const bytes = serialiseDecoded(message);
        for (let length = 0; length < bytes.length; length++) {
          decodesOrRejects(() => deserialiseAny(bytes.subarray(0, length)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a serialised f142 still decodes after these tests (the shared builder is intact)', () => {
    const message = {
      sourceName: 'pv',
      timestampNs: 1n,
      value: { kind: 'string', value: 'ok' },
      alarmStatus: 0,
      alarmSeverity: 2,
    } as const;
    assert.deepEqual(deserialiseF142(serialiseF142(message)), message);
  });
});
