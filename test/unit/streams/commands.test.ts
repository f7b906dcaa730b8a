import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigMessage } from '../../../src/streams/commands.js';
import {
  Protocol,
  Rf5kUpdateType,
  serialiseFc00,
  serialiseRf5k,
  UpdateType,
} from '../../../src/schemas/index.js';

const stream = (overrides: Partial<Parameters<typeof serialiseFc00>[0]['streams'][number]> = {}) => ({
  channel: 'SIMPLE:DOUBLE',
  schema: 'f144',
  topic: 'forwarder_data',
  protocol: Protocol.CA,
  periodic: 0,
  ...overrides,
});

describe('config commands', () => {
  it('rejects junk bytes and wrong identifiers', () => {
    assert.equal(parseConfigMessage(Buffer.from('not a flatbuffer at all')).ok, false);
    assert.equal(parseConfigMessage(new Uint8Array(3)).ok, false);
    const wrong = serialiseFc00({ configChange: UpdateType.ADD, streams: [stream()] });
    wrong.set(Buffer.from('x5f2'), 4);
    const result = parseConfigMessage(wrong);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.reason, /wrong schema/);
  });

  it('parses ADD with protocol, schema and periodic flag', () => {
    const result = parseConfigMessage(
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: [stream(), stream({ channel: 'P:V', protocol: Protocol.PVA, schema: 'f142', periodic: 1 })],
      }),
    );
    assert.deepEqual(result, {
      ok: true,
      skipped: [],
      command: {
        type: 'add',
        streams: [
          {
            pvName: 'SIMPLE:DOUBLE',
            protocol: 'ca',
            topic: 'forwarder_data',
            schema: 'f144',
            periodic: false,
          },
          { pvName: 'P:V', protocol: 'pva', topic: 'forwarder_data', schema: 'f142', periodic: true },
        ],
      },
    });
  });

  it('skips streams whose topic Kafka would refuse or keeps for itself', () => {
    const result = parseConfigMessage(
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: [
          stream({ topic: '.' }),
          stream({ topic: '..' }),
          stream({ topic: '__consumer_offsets' }),
          stream({ topic: 'x'.repeat(250) }),
          stream({ topic: '.hidden..but_legal-1' }),
        ],
      }),
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.skipped.map((reason) => reason.replace(/^stream name=.*?: /, '')),
      [
        `topic '.' is not a valid topic name ("." and ".." are refused by Kafka)`,
        `topic '..' is not a valid topic name ("." and ".." are refused by Kafka)`,
        `topic '__consumer_offsets' is reserved for Kafka's internal topics (names beginning with "__")`,
        `topic '${'x'.repeat(200)}...(250 characters)' is 250 characters long, Kafka allows at most 249`,
      ],
    );
    assert.deepEqual(result.command.type === 'add' && result.command.streams.map((s) => s.topic), [
      '.hidden..but_legal-1',
    ]);
  });

  it('skips invalid streams of an ADD and keeps the valid ones after them', () => {
    const result = parseConfigMessage(
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: [
          stream({ channel: '' }),
          stream({ schema: '' }),
          stream({ topic: '' }),
          stream({ schema: 'nttable_se00' }), // not available over CA
          stream({ schema: 'x9y9' }),
          stream({ protocol: 9999 as Protocol }),
          stream({ channel: 'A'.repeat(5000) }),
          stream({ topic: 'bad topic' }),
          stream({ channel: 'GOOD' }),
        ],
      }),
    );
    assert.ok(result.ok);
    assert.equal(result.skipped.length, 8);
    assert.deepEqual(result.command.type === 'add' && result.command.streams.map((s) => s.pvName), ['GOOD']);
  });

  it('rejects ADD, REMOVE and REPLACE without a valid stream, and unknown update types', () => {
    for (const configChange of [UpdateType.ADD, UpdateType.REMOVE, UpdateType.REPLACE]) {
      assert.equal(parseConfigMessage(serialiseFc00({ configChange, streams: [] })).ok, false);
    }
    assert.equal(
      parseConfigMessage(serialiseFc00({ configChange: 9999 as UpdateType, streams: [stream()] })).ok,
      false,
    );
  });

  it('parses REMOVEALL ignoring streams, and REMOVE patterns', () => {
    assert.deepEqual(
      parseConfigMessage(serialiseFc00({ configChange: UpdateType.REMOVEALL, streams: [stream()] })),
      {
        ok: true,
        command: { type: 'removeAll' },
        skipped: [],
      },
    );
    const result = parseConfigMessage(
      serialiseFc00({
        configChange: UpdateType.REMOVE,
        streams: [
          stream({ channel: '', topic: '', schema: 'f142' }),
          stream({ channel: '', topic: 'forwarder_data', schema: '' }),
          stream({ channel: '', topic: '', schema: '' }),
          stream({ channel: 'X', schema: 'nonsense' }),
        ],
      }),
    );
    assert.ok(result.ok);
    assert.equal(result.skipped.length, 2);
    assert.deepEqual(result.command, {
      type: 'remove',
      patterns: [
        { pvName: '', topic: '', schema: 'f142' },
        { pvName: '', topic: 'forwarder_data', schema: '' },
      ],
    });
  });

  it('reads legacy rf5k commands as periodic streams', () => {
    const result = parseConfigMessage(
      serialiseRf5k({
        configChange: Rf5kUpdateType.ADD,
        streams: [{ channel: 'R', schema: 'f142', topic: 't', protocol: Protocol.PVA }],
      }),
    );
    assert.deepEqual(result.ok && result.command, {
      type: 'add',
      streams: [{ pvName: 'R', protocol: 'pva', topic: 't', schema: 'f142', periodic: true }],
    });
  });
});
