/**
 * Every kind of launcher mistake, as the real process shows it: exit code 2, nothing on stdout, and exactly one
 * line on stderr that names the option at fault. (The wording of each message is unit-tested in
 * test/unit/cli/options.test.ts; this checks the process around it.) No broker is needed: the launcher stops
 * before connecting.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { launchToExit } from './launch.js';

const dir = mkdtempSync(join(tmpdir(), 'ekf-bad-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Nothing listens here; none of these launches gets as far as connecting. */
const broker = '127.0.0.1:1';
const required = [
  '--config-topic',
  `${broker}/commands`,
  '--status-topic',
  `${broker}/status`,
  '--output-broker',
  broker,
];
const missingFile = join(dir, 'missing.conf');
const aDirectory = join(dir, 'a-directory');
mkdirSync(aDirectory);
const unknownKey = file('unknown-key.conf', [
  '# forwarder',
  'config-topic = 127.0.0.1:1/commands',
  'confg-topic=x',
]);
const badPeriodInFile = file('bad-period.conf', ['status-interval = soon']);
const notACertificate = file('not-a-certificate.pem', ['just text']);

/** [what, arguments, environment, the line expected on stderr after "forwarder-launch: "]. */
const cases: readonly (readonly [string, readonly string[], NodeJS.ProcessEnv, RegExp])[] = [
  [
    'unknown option',
    [...required, '--config-topics', 'x'],
    {},
    /^unknown option --config-topics \(did you mean --config-topic\?\)$/,
  ],
  [
    'unknown config-file key',
    ['-c', unknownKey, ...required.slice(2)],
    {},
    /^--config-file: .*unknown-key\.conf line 3: unknown key "confg-topic" \(did you mean config-topic\?\)$/,
  ],
  [
    'positional argument',
    [...required, 'extra'],
    {},
    /^unexpected argument \(not shown, as it could be a password\)/,
  ],
  [
    'flag with a value',
    [...required, '--skip-retrieval=yes'],
    {},
    /^--skip-retrieval is a flag and takes no value$/,
  ],
  [
    'bad URI',
    [...required, '--config-topic', `${broker.replace(':1', ':99999')}/commands`],
    {},
    /^--config-topic: broker .*port 99999 is not in 1\.\.65535$/,
  ],
  [
    'bad URI from the environment',
    required.slice(0, 4),
    { OUTPUT_BROKER: 'SASL_SSL+h:1' },
    /^--output-broker \(from environment variable OUTPUT_BROKER\): SASL_SSL needs a SASL mechanism/,
  ],
  ['missing topic', [...required, '--status-topic', broker], {}, /^--status-topic: no topic given/],
  ['missing required option', required.slice(0, 4), {}, /^--output-broker is required/],
  [
    'unreadable config file',
    [...required, '-c', missingFile],
    {},
    /^--config-file: cannot read ".*missing\.conf": no such file or directory$/,
  ],
  [
    'config file is a directory',
    required,
    { CONFIG_FILE: aDirectory },
    /^--config-file \(from environment variable CONFIG_FILE\): cannot read ".*a-directory": it is a directory$/,
  ],
  [
    'non-numeric period',
    [...required, '--pv-update-period', 'abc'],
    {},
    /^--pv-update-period: "abc" is not a positive integer \(milliseconds\)$/,
  ],
  [
    'non-numeric period from the environment',
    required,
    { FAKE_PV_PERIOD: '100ms' },
    /^--fake-pv-period \(from environment variable FAKE_PV_PERIOD\): "100ms" is not a positive integer/,
  ],
  [
    'non-numeric period in the config file',
    [...required, '-c', badPeriodInFile],
    {},
    /^--status-interval \(from .*bad-period\.conf line 1\): "soon" is not a positive integer/,
  ],
  [
    'bad verbosity',
    [...required, '-v', 'Loud'],
    {},
    /^--verbosity: "Loud" is not one of Trace, Debug, Info, Warning, Error, Critical$/,
  ],
  [
    'SASL without a password',
    [...required, '--output-broker', `SASL_SSL+SCRAM-SHA-512\\alice@${broker}`],
    {},
    /^--output-broker uses SASL_SSL \(SCRAM-SHA-512\) but has no password: set --output-broker-sasl-password$/,
  ],
  [
    'unreadable CA file',
    [...required, '--ssl-ca-cert-file', join(dir, 'missing.pem')],
    {},
    /^--ssl-ca-cert-file: cannot read ".*missing\.pem": no such file or directory$/,
  ],
  [
    'unknown librdkafka property',
    [...required, '--kafka-config', 'linger.msec=5'],
    {},
    /^--kafka-config: No such configuration property: "linger\.msec"$/,
  ],
  [
    'bad Graylog address',
    [...required, '--graylog-logger-address', 'graylog'],
    {},
    /^--graylog-logger-address: 'graylog' is not \[udp:\|tcp:\]host:port$/,
  ],
];

describe('launcher mistakes: exit code 2 and one line naming the option', { concurrency: 4 }, () => {
  for (const [what, args, env, expected] of cases) {
    it(what, async () => {
      const result = await launchToExit(args, env);
      assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
      assert.equal(result.stdout, '');
      const lines = result.stderr.split('\n');
      assert.deepEqual(lines.slice(1), [''], `exactly one line on stderr, got:\n${result.stderr}`);
      const line = lines[0] ?? '';
      assert.ok(line.startsWith('forwarder-launch: '), line);
      assert.match(line.slice('forwarder-launch: '.length), expected);
    });
  }

  // Found only when librdkafka creates the client, after logging has started: a logged line, still exit code 2.
  it('a CA file that holds no certificate', async () => {
    const result = await launchToExit([
      ...required.map((arg) => (arg.startsWith(broker) ? `SSL+${arg}` : arg)),
      '--ssl-ca-cert-file',
      notACertificate,
    ]);
    assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
    const errors = result.stderr.split('\n').filter((line) => / ERROR /.test(line));
    assert.equal(errors.length, 1, result.stderr);
    assert.match(
      errors[0] ?? '',
      /Fatal error: Kafka output producer: invalid client configuration: ssl\.ca\.location failed: .*no certificate/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
});
