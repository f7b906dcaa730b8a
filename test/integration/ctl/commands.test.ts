/**
 * forwarder-ctl's commands against the real broker: what add, remove, replace and remove-all send arrives on the
 * config topic and decodes as intended; stream files in every format; SASL and TLS; clear failures for a missing
 * topic and for a broker nobody listens on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfigMessage } from '../../../src/streams/commands.js';
import {
  deserialiseFc00,
  type Fc00Message,
  Protocol,
  serialiseFc00,
  UpdateType,
} from '../../../src/schemas/index.js';
import type { KafkaBrokerInfo } from '../../support/kafka-broker.js';
import { clientConfig, consumeMessages, createTopics, testBroker, uniqueTopic } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { runCtl } from './ctl-process.js';

let broker: KafkaBrokerInfo;
let dir: string;

before(async () => {
  broker = await testBroker();
  dir = mkdtempSync(join(tmpdir(), 'ctl-commands-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const plaintext = (): Record<string, string> => clientConfig(broker, { listener: 'PLAINTEXT' });

/** A fresh config topic and the --broker URI that names it. */
async function configTopic(): Promise<{ topic: string; uri: string }> {
  const topic = uniqueTopic('ctl-commands');
  await createTopics(plaintext(), [topic]);
  return { topic, uri: `${broker.listeners.PLAINTEXT}/${topic}` };
}

async function commandsOn(topic: string, count: number): Promise<Fc00Message[]> {
  const messages = await consumeMessages(plaintext(), topic, { count, timeoutMs: 15_000 });
  assert.equal(messages.length, count, `expected ${count} messages on ${topic}`);
  return messages.map((message) => deserialiseFc00(message.value));
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const stream = (channel: string, protocol: Protocol, topic: string, schema: string, periodic = 0) => ({
  channel,
  schema,
  topic,
  protocol,
  periodic,
});

describe('forwarder-ctl commands', () => {
  it('add sends one fc00 ADD with the argument streams, which the forwarder accepts', async () => {
    const { topic, uri } = await configTopic();
    const result = await runCtl([
      '--broker',
      uri,
      'add',
      'SIM:A',
      'ca',
      'motion',
      'f144',
      'SIM:B',
      'pva',
      'motion',
      'al00',
      '--periodic',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Sent ADD of 2 streams to ${topic}.\n`);
    const [message] = await commandsOn(topic, 1);
    assert.deepEqual(message, {
      configChange: UpdateType.ADD,
      streams: [
        stream('SIM:A', Protocol.CA, 'motion', 'f144', 1),
        stream('SIM:B', Protocol.PVA, 'motion', 'al00', 1),
      ],
    });
  });

  it('add and replace read streams from JSON, YAML and CSV files', async () => {
    const { topic, uri } = await configTopic();
    const json = file(
      'streams.json',
      JSON.stringify([
        { pv: 'J:1', protocol: 'ca', topic: 'data', schema: 'f144', periodic: true },
        { pv: 'J:2', protocol: 'fake', topic: 'data', schema: 'tdct' },
      ]),
    );
    const yaml = file(
      'streams.yml',
      'streams:\n  - pv: Y:1\n    protocol: pva\n    topic: data\n    schema: nttable_senv\n    periodic: yes\n',
    );
    const csv = file(
      'streams.csv',
      'pv,protocol,topic,schema,periodic\nC:1,ca,data,ep01,false\n"C:2",PVA,data,f142,1\n',
    );
    for (const path of [json, yaml, csv]) {
      const result = await runCtl(['-b', uri, 'add', '--file', path]);
      assert.equal(result.code, 0, result.stderr);
    }
    const replace = await runCtl(['-b', uri, 'replace', '-f', '-', '--format', 'csv'], {
      input: 'R:1,fake,data,f144\n',
    });
    assert.equal(replace.code, 0, replace.stderr);
    assert.deepEqual(await commandsOn(topic, 4), [
      {
        configChange: UpdateType.ADD,
        streams: [
          stream('J:1', Protocol.CA, 'data', 'f144', 1),
          stream('J:2', Protocol.FAKE, 'data', 'tdct'),
        ],
      },
      { configChange: UpdateType.ADD, streams: [stream('Y:1', Protocol.PVA, 'data', 'nttable_senv', 1)] },
      {
        configChange: UpdateType.ADD,
        streams: [stream('C:1', Protocol.CA, 'data', 'ep01'), stream('C:2', Protocol.PVA, 'data', 'f142', 1)],
      },
      { configChange: UpdateType.REPLACE, streams: [stream('R:1', Protocol.FAKE, 'data', 'f144')] },
    ]);
  });

  it('remove sends wildcard patterns with empty fields, which the forwarder accepts', async () => {
    const { topic, uri } = await configTopic();
    const patterns = file('patterns.csv', 'pv,topic,schema\nSIM:*,,\n,old_*,\n');
    assert.equal(
      (await runCtl(['-b', uri, 'remove', 'SIM:?', 'X:[AB]*', '--topic', 'mo*', '--schema', 'f144'])).code,
      0,
    );
    const fromFile = await runCtl(['-b', uri, 'remove', '--file', patterns]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(fromFile.stdout, `Sent REMOVE of 2 patterns to ${topic}.\n`);
    const messages = await commandsOn(topic, 2);
    assert.deepEqual(messages, [
      {
        configChange: UpdateType.REMOVE,
        streams: [
          stream('SIM:?', Protocol.PVA, 'mo*', 'f144'),
          stream('X:[AB]*', Protocol.PVA, 'mo*', 'f144'),
        ],
      },
      {
        configChange: UpdateType.REMOVE,
        streams: [stream('SIM:*', Protocol.PVA, '', ''), stream('', Protocol.PVA, 'old_*', '')],
      },
    ]);
    for (const message of messages) {
      const parsed = parseConfigMessage(serialiseFc00(message));
      assert.ok(parsed.ok && parsed.skipped.length === 0);
    }
  });

  it('remove-all sends REMOVEALL with --yes, and nothing without it when stdin is no terminal', async () => {
    const { topic, uri } = await configTopic();
    const refused = await runCtl(['-b', uri, 'remove-all']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr, 'forwarder-ctl: remove-all needs --yes when not run on a terminal\n');
    const sent = await runCtl(['-b', uri, 'remove-all', '--yes']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(await commandsOn(topic, 1), [{ configChange: UpdateType.REMOVEALL, streams: [] }]);
  });

  it('sends nothing when any stream is bad', async () => {
    const { topic, uri } = await configTopic();
    const bad = await runCtl(['-b', uri, 'add', 'GOOD', 'ca', 't', 'f144', 'BAD', 'ca', 't', 'f145']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^forwarder-ctl: stream 2 of the arguments: unknown schema 'f145'/);
    const badFile = await runCtl([
      '-b',
      uri,
      'add',
      '--file',
      file('bad.json', '[{"pv": "A", "protocol": "ca", "topic": "t", "schema": "f144"},'),
    ]);
    assert.equal(badFile.code, 2);
    assert.match(badFile.stderr, /bad\.json is not valid JSON/);
    const good = await runCtl(['-b', uri, 'add', 'GOOD', 'ca', 't', 'f144']);
    assert.equal(good.code, 0);
    // Only the good command's message is on the topic.
    assert.equal((await consumeMessages(plaintext(), topic, { count: 2, timeoutMs: 3_000 })).length, 1);
  });

  it('connects with SASL over TLS, with the password from the environment or a file', async () => {
    const topic = uniqueTopic('ctl-sasl');
    await createTopics(plaintext(), [topic]);
    const uri = `SASL_SSL+SCRAM-SHA-512\\alice@${broker.listeners.SASL_SSL}/${topic}`;
    const result = await runCtl(
      ['-b', uri, '--ssl-ca-cert-file', broker.caFile, 'add', 'TLS:PV', 'pva', 't', 'f144'],
      {
        env: { FORWARDER_CTL_SASL_PASSWORD: broker.users['alice'] ?? '' },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await commandsOn(topic, 1))[0]?.streams[0]?.channel, 'TLS:PV');

    // The same from a password file, as a service would keep it (with its trailing line break).
    const passwordFile = file('ctl-password', `${broker.users['alice'] ?? ''}\n`);
    const fromFile = await runCtl(
      ['-b', uri, '--ssl-ca-cert-file', broker.caFile, 'add', 'TLS:PV2', 'pva', 't', 'f144'],
      { env: { FORWARDER_CTL_SASL_PASSWORD_FILE: passwordFile } },
    );
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal((await commandsOn(topic, 2))[1]?.streams[0]?.channel, 'TLS:PV2');

    const wrong = await runCtl([
      '-b',
      uri,
      '--ssl-ca-cert-file',
      broker.caFile,
      '--sasl-password',
      'wrong',
      '--timeout',
      '5',
      'add',
      'TLS:PV',
      'pva',
      't',
      'f144',
    ]);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /^forwarder-ctl: cannot connect to Kafka at .* within 5 s \(.*[Aa]uthentication/,
    );
    assert.doesNotMatch(wrong.stderr, /wrong/);
  });

  it('says why librdkafka cannot use the TLS settings', async () => {
    const notPem = file('not-a-certificate.pem', 'just text');
    const uri = `SSL+${broker.listeners.SSL}/commands`;
    for (const command of [['add', 'A', 'ca', 't', 'f144'], ['tail']]) {
      const result = await runCtl(['-b', uri, '--ssl-ca-cert-file', notPem, ...command]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /^forwarder-ctl: .*no certificate or crl found.*\n$/);
    }
  });

  it('fails clearly on a topic that does not exist', async () => {
    const result = await runCtl([
      '-b',
      `${broker.listeners.PLAINTEXT}/no-such-topic-${Date.now()}`,
      'add',
      'A',
      'ca',
      't',
      'f144',
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^forwarder-ctl: topic no-such-topic-\d+ does not exist on 127\.0\.0\.1:\d+\n$/,
    );
  });

  it('gives up on a broker nobody listens on within the time-out, with one line', async () => {
    const port = await freePort();
    for (const args of [['add', 'A', 'ca', 't', 'f144'], ['status'], ['stored'], ['tail']]) {
      const result = await runCtl(['-b', `127.0.0.1:${port}/commands`, '--timeout', '2', ...args], {
        timeoutMs: 20_000,
      });
      assert.equal(result.code, 1, `${args[0]}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /^forwarder-ctl: cannot connect to Kafka at 127\.0\.0\.1:\d+ within 2 s( \([^\n]*\))?\n$/,
      );
      assert.ok(result.elapsedMs < 10_000, `${args[0]} took ${result.elapsedMs} ms`);
    }
  });
});
