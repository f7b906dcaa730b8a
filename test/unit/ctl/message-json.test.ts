import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageJson, sourceNames } from '../../../src/ctl/message-json.js';
import { tailLine } from '../../../src/ctl/commands/tail.js';
import { fieldMatcher } from '../../../src/streams/wildcard.js';
import { deserialiseAny } from '../../../src/schemas/index.js';
import { sampleMessages } from './sample-messages.js';

describe('message JSON', () => {
  for (const sample of sampleMessages) {
    it(`writes ${sample.schema} (${sample.source}) with 64-bit integers as text and enums by name`, () => {
      const decoded = deserialiseAny(sample.bytes);
      assert.equal(decoded.schema, sample.schema);
      // Through JSON and back: what a reader of the output gets.
      assert.deepEqual(JSON.parse(JSON.stringify(messageJson(decoded))), sample.json);
      assert.deepEqual(sourceNames(decoded), [sample.source]);
    });
  }

  it('keeps enum numbers the schema has no name for', () => {
    const fc00 = sampleMessages.find((sample) => sample.schema === 'fc00')?.bytes ?? new Uint8Array();
    const bytes = Uint8Array.from(fc00);
    const decoded = deserialiseAny(bytes);
    assert.equal(decoded.schema, 'fc00');
    const unknown = { ...decoded, message: { ...decoded.message, configChange: 9 } };
    assert.equal((messageJson(unknown) as { configChange: unknown }).configChange, 9);
  });
});

describe('tail lines', () => {
  const record = (value: Buffer | null) => ({
    partition: 1,
    offset: 42,
    timestamp: 1_700_000_000_123,
    key: Buffer.from('K'),
    value,
  });

  it('prints the record and the decoded message', () => {
    const sample = sampleMessages[0];
    assert.ok(sample);
    const line = tailLine(record(Buffer.from(sample.bytes)), undefined) ?? '';
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
    assert.deepEqual(JSON.parse(line), {
      partition: 1,
      offset: 42,
      timestamp: 1_700_000_000_123,
      key: 'K',
      schema: 'f144',
      message: sample.json,
    });
  });

  it('reports what is not an ESS message instead of stopping', () => {
    assert.deepEqual(JSON.parse(tailLine(record(Buffer.from('not a flatbuffer')), undefined) ?? ''), {
      partition: 1,
      offset: 42,
      timestamp: 1_700_000_000_123,
      key: 'K',
      error: 'no schema with file identifier "a fl"',
      size: 16,
    });
    assert.match(JSON.parse(tailLine(record(null), undefined) ?? '').error, /no file identifier/);
  });

  it('filters by source name with wildcards, dropping undecodable messages', () => {
    const matches = fieldMatcher('SIM:[A-D]*');
    const kept = sampleMessages.filter(
      (sample) => tailLine(record(Buffer.from(sample.bytes)), matches) !== undefined,
    );
    assert.deepEqual(
      kept.map((sample) => sample.source),
      ['SIM:DOUBLE', 'SIM:ALARM', 'SIM:CONNECTION', 'SIM:CHOPPER', 'SIM:COMMANDED'],
    );
    assert.equal(tailLine(record(Buffer.from('junk junk')), fieldMatcher('*')), undefined);
  });
});
