import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../../src/ctl/errors.js';
import {
  csvRecords,
  entriesFromArguments,
  parseStreamText,
  readStreamFile,
  type StreamEntry,
} from '../../../src/ctl/stream-file.js';

/** Entries without their location, for comparing what was read. */
const fields = (entries: readonly StreamEntry[]) => entries.map(({ where: _where, ...rest }) => rest);

const usageError = (pattern: RegExp) => (error: unknown) =>
  error instanceof UsageError && pattern.test(error.message);

describe('stream arguments', () => {
  it('reads PV PROTOCOL TOPIC SCHEMA groups', () => {
    const entries = entriesFromArguments(['A', 'ca', 't', 'f144', 'B', 'pva', 'u', 'f142']);
    assert.deepEqual(fields(entries), [
      { pv: 'A', protocol: 'ca', topic: 't', schema: 'f144' },
      { pv: 'B', protocol: 'pva', topic: 'u', schema: 'f142' },
    ]);
    assert.equal(entries[1]?.where, 'stream 2 of the arguments');
  });

  it('refuses an incomplete group', () => {
    assert.throws(
      () => entriesFromArguments(['A', 'ca', 't']),
      usageError(/PV PROTOCOL TOPIC SCHEMA.*3 arguments/),
    );
  });
});

describe('CSV stream files', () => {
  it('reads positional columns, skipping comments and blank lines', async () => {
    const text =
      '# streams\nSIM:A,ca,motion,f144\n\n SIM:B , pva , motion , f142 , yes\r\nSIM:C,fake,t,tdct,0\n';
    const entries = await parseStreamText(text, 'csv', 'streams.csv');
    assert.deepEqual(fields(entries), [
      { pv: 'SIM:A', protocol: 'ca', topic: 'motion', schema: 'f144' },
      { pv: 'SIM:B', protocol: 'pva', topic: 'motion', schema: 'f142', periodic: true },
      { pv: 'SIM:C', protocol: 'fake', topic: 't', schema: 'tdct', periodic: false },
    ]);
    assert.deepEqual(
      entries.map((entry) => entry.where),
      ['streams.csv line 2', 'streams.csv line 4', 'streams.csv line 5'],
    );
  });

  it('takes the column order from a header line', async () => {
    const text = 'schema,PV,topic,protocol\nf144,SIM:A,motion,ca\n';
    assert.deepEqual(fields(await parseStreamText(text, 'csv', 'x.csv')), [
      { pv: 'SIM:A', protocol: 'ca', topic: 'motion', schema: 'f144' },
    ]);
  });

  it('leaves missing fields empty (for REMOVE patterns)', async () => {
    assert.deepEqual(fields(await parseStreamText('SIM:*\n,,motion\n', 'csv', 'x.csv')), [
      { pv: 'SIM:*', protocol: '', topic: '', schema: '' },
      { pv: '', protocol: '', topic: 'motion', schema: '' },
    ]);
  });

  it('reads RFC 4180 quoting', () => {
    assert.deepEqual(csvRecords('"a,b","say ""hi""",c\n"multi\nline",x', 'x.csv'), [
      { fields: ['a,b', 'say "hi"', 'c'], line: 1 },
      { fields: ['multi\nline', 'x'], line: 2 },
    ]);
  });

  it('names the line of a mistake', async () => {
    await assert.rejects(
      parseStreamText('A,ca,t,f144\nB,ca,t,f144,yes,extra\n', 'csv', 's.csv'),
      usageError(/^s\.csv line 2: 6 fields/),
    );
    await assert.rejects(
      parseStreamText('A,ca,t,f144,maybe\n', 'csv', 's.csv'),
      usageError(/^s\.csv line 1: periodic: "maybe" is not true or false/),
    );
    await assert.rejects(
      parseStreamText('pv,protocol,topik\n', 'csv', 's.csv'),
      usageError(/line 1: unknown column "topik"/),
    );
    await assert.rejects(
      parseStreamText('A,ca\n"B,ca,t,f144\n', 'csv', 's.csv'),
      usageError(/line 2: a quoted field is not closed/),
    );
  });
});

describe('JSON and YAML stream files', () => {
  const expected = [
    { pv: 'SIM:A', protocol: 'ca', topic: 'motion', schema: 'f144', periodic: true },
    { pv: 'SIM:B', protocol: 'pva', topic: 'motion', schema: 'f142' },
  ];

  it('reads a JSON list, or an object with a streams list', async () => {
    const list = JSON.stringify(expected);
    assert.deepEqual(fields(await parseStreamText(list, 'json', 'a.json')), expected);
    assert.deepEqual(fields(await parseStreamText(`{"streams": ${list}}`, 'json', 'a.json')), expected);
  });

  it('reads YAML', async () => {
    const yaml = [
      'streams:',
      '  - {pv: "SIM:A", protocol: ca, topic: motion, schema: f144, periodic: true}',
      '  - pv: SIM:B',
      '    protocol: pva',
      '    topic: motion',
      '    schema: f142',
    ].join('\n');
    assert.deepEqual(fields(await parseStreamText(yaml, 'yaml', 'a.yaml')), expected);
  });

  it('accepts periodic as a boolean, 0/1 or true/false text', async () => {
    const text = JSON.stringify(
      [true, 1, 'yes', false, 0, 'off', null].map((periodic) => ({ pv: 'A', periodic })),
    );
    assert.deepEqual(
      (await parseStreamText(text, 'json', 'a.json')).map((entry) => entry.periodic),
      [true, true, true, false, false, false, undefined],
    );
  });

  it('refuses unknown fields, non-text values and malformed documents, naming the stream', async () => {
    await assert.rejects(
      parseStreamText('[{"pv": "A", "perodic": true}]', 'json', 'a.json'),
      usageError(/^a\.json stream 1: unknown field "perodic"/),
    );
    await assert.rejects(
      parseStreamText('[{"pv": "A"}, {"topic": 12}]', 'json', 'a.json'),
      usageError(/^a\.json stream 2: topic must be a string/),
    );
    await assert.rejects(
      parseStreamText('- {pv: A, topic: 1e3}', 'yaml', 'a.yaml'),
      usageError(/topic must be a string \(quote it\)/),
    );
    await assert.rejects(
      parseStreamText('[{"pv": "A",]', 'json', 'a.json'),
      usageError(/^a\.json is not valid JSON/),
    );
    await assert.rejects(
      parseStreamText('- [unclosed', 'yaml', 'a.yaml'),
      usageError(/^a\.yaml is not valid YAML/),
    );
    await assert.rejects(
      parseStreamText('{"pv": "A"}', 'json', 'a.json'),
      usageError(/expected a list of streams/),
    );
    await assert.rejects(
      parseStreamText('["A"]', 'json', 'a.json'),
      usageError(/stream 1: expected an object/),
    );
  });
});

describe('stream file reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-stream-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('chooses the format by extension unless --format is given', async () => {
    const csv = join(dir, 'streams.csv');
    writeFileSync(csv, 'A,ca,t,f144\n');
    assert.equal((await readStreamFile(csv))[0]?.pv, 'A');
    const noExtension = join(dir, 'streams');
    writeFileSync(noExtension, '[{"pv": "B"}]');
    await assert.rejects(readStreamFile(noExtension), usageError(/use --format json\|yaml\|csv/));
    assert.equal((await readStreamFile(noExtension, 'json'))[0]?.pv, 'B');
  });

  it('says why a file cannot be read', async () => {
    await assert.rejects(
      readStreamFile(join(dir, 'missing.json')),
      usageError(/cannot read ".*missing\.json": no such file or directory/),
    );
    await assert.rejects(readStreamFile(dir, 'json'), usageError(/it is a directory/));
  });
});
