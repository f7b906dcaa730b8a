import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigFileError, parseConfigFile, readConfigFile } from '../../../../src/cli/options/config-file.js';

function parse(text: string): { key: string; value: string | undefined; line: number }[] {
  return parseConfigFile(text, 'forwarder.conf');
}

function assertSyntaxError(text: string, expected: string): void {
  assert.throws(
    () => parse(text),
    (error: unknown) => {
      assert.ok(error instanceof ConfigFileError, String(error));
      assert.equal(error.message, expected);
      return true;
    },
  );
}

describe('config file syntax', () => {
  it('reads key=value, key = value, key: value and key value', () => {
    assert.deepEqual(
      parse(
        [
          'output-broker=localhost:9092',
          'pv-update-period = 1000',
          'status-topic: SASL_SSL+PLAIN\\alice@h:9093/status',
          'service-id   forwarder 1',
          '\tverbosity\t=\tDebug\t',
        ].join('\n'),
      ),
      [
        { key: 'output-broker', value: 'localhost:9092', line: 1 },
        { key: 'pv-update-period', value: '1000', line: 2 },
        { key: 'status-topic', value: 'SASL_SSL+PLAIN\\alice@h:9093/status', line: 3 },
        { key: 'service-id', value: 'forwarder 1', line: 4 },
        { key: 'verbosity', value: 'Debug', line: 5 },
      ],
    );
  });

  it('gives a key alone no value (a flag), and key= an empty one', () => {
    assert.deepEqual(parse('skip-retrieval\nskip-retrieval   # comment\nlog-file=\nlog-file:'), [
      { key: 'skip-retrieval', value: undefined, line: 1 },
      { key: 'skip-retrieval', value: undefined, line: 2 },
      { key: 'log-file', value: '', line: 3 },
      { key: 'log-file', value: '', line: 4 },
    ]);
  });

  it('skips comments, blank lines and section headers, and counts their lines', () => {
    const text = '# forwarder\n\n   \n[forwarder]\n  # indented comment\nservice-id=a\n';
    assert.deepEqual(parse(text), [{ key: 'service-id', value: 'a', line: 6 }]);
  });

  it('ends a value at a "#" that follows white space, but not at one inside a word', () => {
    assert.deepEqual(parse('verbosity = Debug # noisy\nstatus-topic-sasl-password=p#ss\n'), [
      { key: 'verbosity', value: 'Debug', line: 1 },
      { key: 'status-topic-sasl-password', value: 'p#ss', line: 2 },
    ]);
  });

  it('keeps a "#" that starts the value after "=" or ":"', () => {
    assert.deepEqual(parse('config-topic-sasl-password=#secret\nservice-id: #1'), [
      { key: 'config-topic-sasl-password', value: '#secret', line: 1 },
      { key: 'service-id', value: '#1', line: 2 },
    ]);
  });

  it('removes one pair of surrounding quotes, keeping what is inside', () => {
    assert.deepEqual(parse(`log-file = "/var/log/forwarder 1.log"  # comment\nservice-id='a # b '`), [
      { key: 'log-file', value: '/var/log/forwarder 1.log', line: 1 },
      { key: 'service-id', value: 'a # b ', line: 2 },
    ]);
  });

  it('keeps "=" and ":" inside the value', () => {
    assert.deepEqual(parse('kafka-config=linger.ms=5;debug=broker,topic\nkafka-config: a=b:c'), [
      { key: 'kafka-config', value: 'linger.ms=5;debug=broker,topic', line: 1 },
      { key: 'kafka-config', value: 'a=b:c', line: 2 },
    ]);
  });

  it('takes CRLF line ends and a byte order mark', () => {
    assert.deepEqual(parse('\uFEFFservice-id=a\r\nverbosity=Info\r\n'), [
      { key: 'service-id', value: 'a', line: 1 },
      { key: 'verbosity', value: 'Info', line: 2 },
    ]);
  });

  it('reports syntax errors with the file and line', () => {
    assertSyntaxError('service-id=a\n=value', 'forwarder.conf line 2: expected key=value');
    assertSyntaxError('service-id="abc', 'forwarder.conf line 1: no closing " for the quoted value');
    assertSyntaxError(
      "\n\nservice-id='a' b",
      'forwarder.conf line 3: unexpected text after the quoted value',
    );
    assertSyntaxError('service-id#a', 'forwarder.conf line 1: unexpected "#" after "service-id"');
  });
});

describe('reading a config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ekf-config-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and parses the file', () => {
    const path = join(dir, 'forwarder.conf');
    writeFileSync(path, 'output-broker=localhost:9092\n');
    assert.deepEqual(readConfigFile(path), [{ key: 'output-broker', value: 'localhost:9092', line: 1 }]);
  });

  it('names the path and the reason when the file cannot be read', () => {
    const missing = join(dir, 'missing.conf');
    assert.throws(() => readConfigFile(missing), {
      name: 'ConfigFileError',
      message: `cannot read "${missing}": no such file or directory`,
    });
    assert.throws(() => readConfigFile(dir), { message: `cannot read "${dir}": it is a directory` });
  });

  it('names the path in syntax errors', () => {
    const path = join(dir, 'bad.conf');
    writeFileSync(path, '# ok\n"quoted-key"=1\n');
    assert.throws(() => readConfigFile(path), { message: `${path} line 2: expected key=value` });
  });
});
