/** The table of output schemas: which a stream may name over each protocol, and what each one sends. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PvUpdate } from '../../../src/model/update.js';
import { OUTPUT_SCHEMA_NAMES, type OutputSchema } from '../../../src/model/stream.js';
import { deserialiseAny } from '../../../src/schemas/registry.js';
import {
  isSchemaOfProtocol,
  OUTPUT_SCHEMAS,
  SCHEMAS_OF_PROTOCOL,
  unavailableSchemaReason,
  type ValueSerialiser,
} from '../../../src/schemas/output-schemas.js';
import { UnsupportedValueError } from '../../../src/schemas/errors.js';

const T = 1_700_000_000_000_000_000n;
const update = (value: PvUpdate['value']): PvUpdate => ({
  value,
  timestampNs: T,
  alarm: { severity: 0, status: 0, message: 'NO_ALARM' },
});

function valueSerialiser(schema: OutputSchema): ValueSerialiser {
  const { main } = OUTPUT_SCHEMAS[schema];
  if (typeof main !== 'function') assert.fail(`${schema} has no value serialiser`);
  return main({ pvName: 'PV', protocol: 'pva', topic: 't', schema, periodic: false });
}

describe('output schemas', () => {
  it('offers NTTable and NTNDArray schemas over pvAccess and fake only', () => {
    const common = ['f144', 'f142', 'tdct', 'al00', 'ep01', 'no_op'];
    const all = [...common, 'nttable_se00', 'nttable_senv', 'ad00', 'da00'];
    assert.deepEqual([...SCHEMAS_OF_PROTOCOL.ca], common);
    assert.deepEqual([...SCHEMAS_OF_PROTOCOL.pva], all);
    assert.deepEqual([...SCHEMAS_OF_PROTOCOL.fake], all);
    assert.deepEqual(OUTPUT_SCHEMA_NAMES, all);
    assert.ok(isSchemaOfProtocol('pva', 'nttable_senv'));
    assert.ok(!isSchemaOfProtocol('ca', 'nttable_senv'));
    assert.ok(!isSchemaOfProtocol('pva', 'f999'));
    assert.ok(!isSchemaOfProtocol('pva', ''));
    assert.ok(isSchemaOfProtocol('pva', 'ad00'));
    assert.ok(!isSchemaOfProtocol('ca', 'da00'));
  });

  it('says why a protocol does not offer a schema', () => {
    assert.equal(
      unavailableSchemaReason('ca', 'ad00'),
      "schema 'ad00' is not available for protocol ca: it needs an NTNDArray (an areaDetector image, as " +
        'NDPluginPva serves it), which only pvAccess serves',
    );
    assert.equal(
      unavailableSchemaReason('ca', 'nttable_se00'),
      "schema 'nttable_se00' is not available for protocol ca: it needs an NTTable, which only pvAccess serves",
    );
    assert.equal(unavailableSchemaReason('pva', 'f999'), "schema 'f999' is not available for protocol pva");
  });

  it('refuses anything but an uncompressed NTNDArray on ad00 and da00', () => {
    for (const schema of ['ad00', 'da00'] as const) {
      assert.throws(
        () => valueSerialiser(schema)(update({ kind: 'scalar', type: 'float64', value: 1 })),
        (error: unknown) =>
          error instanceof UnsupportedValueError &&
          error.message === `schema ${schema} needs an NTNDArray, got a scalar value`,
      );
      const compressed = {
        kind: 'ndarray',
        type: 'uint8',
        data: new Uint8Array(10),
        dimensions: [20],
        uniqueId: 1,
        codec: 'lz4',
        attributes: [],
      } as const;
      assert.throws(
        () => valueSerialiser(schema)(update(compressed)),
        (error: unknown) =>
          error instanceof UnsupportedValueError &&
          error.message ===
            'compressed NTNDArray (codec lz4) is not forwarded; forward the array before NDPluginCodec',
      );
    }
  });

  it('sends al00 besides every main schema but f142', () => {
    assert.deepEqual(
      OUTPUT_SCHEMA_NAMES.filter((name) => !OUTPUT_SCHEMAS[name].alarms),
      ['f142'],
    );
  });

  it('makes value serialisers whose messages carry the schema named', () => {
    for (const schema of ['f144', 'f142', 'tdct'] as const) {
      const message = valueSerialiser(schema)(update({ kind: 'scalar', type: 'float64', value: 2 }));
      assert.equal(message?.timestampNs, T);
      assert.equal(deserialiseAny(message?.payload ?? new Uint8Array()).schema, schema);
    }
    const empty = update({ kind: 'array', type: 'int32', value: new Int32Array(0) });
    assert.equal(valueSerialiser('tdct')(empty), null);
  });

  it('refuses anything but an NTTable on nttable_se00 and nttable_senv', () => {
    for (const schema of ['nttable_se00', 'nttable_senv'] as const) {
      assert.throws(
        () => valueSerialiser(schema)(update({ kind: 'scalar', type: 'float64', value: 1 })),
        (error: unknown) =>
          error instanceof UnsupportedValueError &&
          error.message === `schema ${schema} needs an NTTable, got a scalar value`,
      );
    }
  });

  it('repeats al00 or ep01 as the main messages of those names, and sends none for no_op', () => {
    assert.equal(OUTPUT_SCHEMAS.al00.main, 'al00');
    assert.equal(OUTPUT_SCHEMAS.ep01.main, 'ep01');
    assert.equal(OUTPUT_SCHEMAS.no_op.main, 'none');
  });
});
