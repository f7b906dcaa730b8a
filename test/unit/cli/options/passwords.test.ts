/** Passwords: given directly, by file or by variable; never in a message; a warning when ps shows them. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LauncherOptions } from '../../../../src/cli/launcher-options.js';
import { launcherOptionTable } from '../../../../src/cli/options/table.js';
import {
  certificateFile,
  configFile,
  dir,
  envName,
  failure,
  file,
  keyFile,
  minimal,
  options,
} from './support.js';

describe('launcher options: passwords never appear in messages', () => {
  const secret = 'hunter2';
  const sasl = ['--config-topic', 'SASL_SSL+PLAIN\\alice@h:1/commands', ...minimal.slice(2)];
  const cases: readonly (readonly [readonly string[], NodeJS.ProcessEnv])[] = [
    [[...minimal, `--config-topic-sasl-pasword=${secret}`], {}],
    [[...minimal, '--config-topic-sasl-password=', secret], {}],
    [[...minimal, `-p${secret}`], {}],
    [[...minimal, '-p', secret], {}],
    [[...minimal, '--status-topic-sasl-password', secret], {}],
    [minimal, { CONFIG_TOPIC_SASL_PASSWORD: secret }],
    [[...minimal, '--storage-topic-sasl-password', secret], {}],
    [[...minimal, '--ssl-key-password', secret], {}],
    [[...minimal, '--kafka-config', `sasl password=${secret}`], {}],
    [[...minimal, '--config-topic', `SASL_SSL+PLAIN\\alice:${secret}@h:1/commands`], {}],
    [[...sasl, '--config-topic-sasl-password', secret, '--pv-update-period', 'x'], {}],
    [[...minimal, '-c', configFile('secret-1.conf', [`sasl-password=${secret}`])], {}],
    [
      [
        ...minimal,
        '-c',
        configFile('secret-2.conf', [`status-topic-sasl-password=${secret}`, 'status-topic-sasl-password=x']),
      ],
      {},
    ],
    [[...minimal, '-c', configFile('secret-3.conf', [`status-topic-sasl-password "${secret}`])], {}],
  ];

  for (const [index, [argv, env]] of cases.entries()) {
    it(`case ${index + 1}`, () => assert.ok(!failure(argv, env).includes(secret)));
  }
});

describe('launcher options: passwords from files', () => {
  const sasl = [
    '--config-topic',
    'SASL_SSL+SCRAM-SHA-512\\alice@h:1/commands',
    '--status-topic',
    'SASL_PLAINTEXT+PLAIN\\alice@h:1/status',
    '--output-broker',
    'SCRAM-SHA-256\\alice@h:1',
    '--storage-topic',
    'SASL_SSL+PLAIN\\alice@h:1/storage',
    '--ssl-certificate-file',
    certificateFile,
    '--ssl-key-file',
    keyFile,
  ];
  const passwordOptions = [
    'config-topic-sasl-password',
    'status-topic-sasl-password',
    'output-broker-sasl-password',
    'storage-topic-sasl-password',
    'ssl-key-password',
  ] as const;
  const passwords = (result: LauncherOptions): (string | undefined)[] => [
    result.configTopic.saslPassword,
    result.statusTopic.saslPassword,
    result.outputBroker.saslPassword,
    result.storageTopic?.saslPassword,
    result.tls.keyPassword,
  ];
  const files = passwordOptions.map((long) => file(`${long}.txt`, `${long}-secret\n`));
  const expected = passwordOptions.map((long) => `${long}-secret`);

  it('has a -file option for every password option, with its variable', () => {
    for (const long of passwordOptions) {
      const spec = Object.values(launcherOptionTable).find((each) => each.long === `${long}-file`);
      assert.equal(spec?.env, `${envName(long)}_FILE`, long);
    }
  });

  it('reads each password from its file, given on the command line, in the environment or in a config file', () => {
    const argv = passwordOptions.flatMap((long, index) => [`--${long}-file`, files[index] ?? '']);
    assert.deepEqual(passwords(options([...sasl, ...argv])), expected);
    const env = Object.fromEntries(
      passwordOptions.map((long, index) => [`${envName(long)}_FILE`, files[index] ?? '']),
    );
    assert.deepEqual(passwords(options(sasl, env)), expected);
    const path = configFile(
      'password-files.conf',
      passwordOptions.map((long, index) => `${long}-file = ${files[index] ?? ''}`),
    );
    assert.deepEqual(passwords(options([...sasl, '-c', path])), expected);
  });

  it('names the -file option in messages about the password, and warns of none', () => {
    const result = options([
      ...sasl,
      ...passwordOptions.flatMap((long, index) => [`--${long}-file`, files[index] ?? '']),
    ]);
    assert.equal(result.outputBroker.saslPasswordOption, '--output-broker-sasl-password-file');
    assert.equal(result.startupWarnings, undefined);
  });

  it('strips one trailing line break (\\n or \\r\\n), nothing else', () => {
    const cases: readonly (readonly [string, string])[] = [
      ['secret', 'secret'],
      ['secret\n', 'secret'],
      ['secret\r\n', 'secret'],
      ['secret\n\n', 'secret\n'],
      [' secret \t\n', ' secret \t'],
      ['two\nlines\n', 'two\nlines'],
      ['pässwörd\n', 'pässwörd'],
    ];
    for (const [index, [content, password]] of cases.entries()) {
      const path = file(`strip-${index}.txt`, content);
      const result = options([
        ...minimal.slice(2),
        '--config-topic',
        'PLAIN\\a@h:1/c',
        '--config-topic-sasl-password-file',
        path,
      ]);
      assert.equal(result.configTopic.saslPassword, password, JSON.stringify(content));
    }
  });

  it('reads a pipe to its end, as `<(command)` in a shell gives', () => {
    const fifo = join(dir, 'password.fifo');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, String(made.stderr));
    const writer = spawn('sh', [
      '-c',
      // Two writes apart in time through one open descriptor: the password is what arrives until it closes.
      'exec 3>"$1"; printf "piped-" >&3; sleep 0.2; printf "secret\\n" >&3',
      'sh',
      fifo,
    ]);
    try {
      const result = options([
        ...minimal.slice(2),
        '--config-topic',
        'PLAIN\\a@h:1/c',
        '--config-topic-sasl-password-file',
        fifo,
      ]);
      assert.equal(result.configTopic.saslPassword, 'piped-secret');
    } finally {
      writer.kill();
    }
  });

  describe('mistakes are one line, exit code 2, and never show the content', () => {
    const secret = 'file-secret-never-shown';
    const withSecret = file('secret.txt', `${secret}\n`);
    const empty = file('empty.txt');
    const onlyNewline = file('newline.txt', '\r\n');
    const large = file('large.txt', `${secret}${'x'.repeat(64 * 1024)}`);
    const missing = join(dir, 'no-such-password.txt');
    const saslConfig = ['--config-topic', 'SASL_SSL+PLAIN\\alice@h:1/commands', ...minimal.slice(2)];
    const cases: readonly (readonly [string, readonly string[], NodeJS.ProcessEnv, string])[] = [
      [
        'empty file',
        [...saslConfig, '--config-topic-sasl-password-file', empty],
        {},
        `--config-topic-sasl-password-file: "${empty}" is empty`,
      ],
      [
        'a line break alone',
        saslConfig,
        { CONFIG_TOPIC_SASL_PASSWORD_FILE: onlyNewline },
        `--config-topic-sasl-password-file (from environment variable CONFIG_TOPIC_SASL_PASSWORD_FILE): "${onlyNewline}" is empty`,
      ],
      [
        'missing file',
        [...saslConfig, '--config-topic-sasl-password-file', missing],
        {},
        `--config-topic-sasl-password-file: cannot read "${missing}": no such file or directory`,
      ],
      [
        'a directory',
        [...saslConfig, '--config-topic-sasl-password-file', dir],
        {},
        `--config-topic-sasl-password-file: cannot read "${dir}": it is a directory`,
      ],
      [
        'far too large',
        [...saslConfig, '--config-topic-sasl-password-file', large],
        {},
        `--config-topic-sasl-password-file: "${large}" is longer than 65536 bytes: not a password file`,
      ],
      [
        'empty path',
        [...saslConfig, '--config-topic-sasl-password-file', ''],
        {},
        '--config-topic-sasl-password-file: must not be empty',
      ],
      [
        'password and password file',
        [...saslConfig, '--config-topic-sasl-password-file', withSecret],
        { CONFIG_TOPIC_SASL_PASSWORD: secret },
        '--config-topic-sasl-password and --config-topic-sasl-password-file are both set: give one of them',
      ],
      [
        'key password and key password file',
        [...minimal, '--ssl-key-password', secret],
        { SSL_KEY_PASSWORD_FILE: withSecret },
        '--ssl-key-password and --ssl-key-password-file are both set: give one of them',
      ],
      [
        'password file where SASL is off',
        [...minimal, '--status-topic-sasl-password-file', withSecret],
        {},
        '--status-topic-sasl-password-file is set but --status-topic uses PLAINTEXT, not SASL; the password ' +
          'would be ignored',
      ],
      [
        'storage password file without storage topic',
        [...minimal, '--storage-topic-sasl-password-file', withSecret],
        {},
        '--storage-topic-sasl-password-file is set but --storage-topic is not',
      ],
      [
        'key password file without key',
        [...minimal, '--ssl-key-password-file', withSecret],
        {},
        '--ssl-key-password-file is set but --ssl-key-file is not',
      ],
    ];
    for (const [what, argv, env, expected] of cases) {
      it(what, () => {
        const message = failure(argv, env);
        assert.equal(message, `forwarder-launch: ${expected}`);
        assert.ok(!message.includes(secret));
      });
    }

    it(
      'a file not readable by the forwarder',
      { skip: process.getuid?.() === 0 && 'running as root' },
      () => {
        const locked = file('locked-password.txt', secret);
        chmodSync(locked, 0o200);
        assert.equal(
          failure([...saslConfig, '--config-topic-sasl-password-file', locked]),
          `forwarder-launch: --config-topic-sasl-password-file: cannot read "${locked}": permission denied`,
        );
      },
    );
  });
});

describe('launcher options: passwords on the command line', () => {
  const sasl = ['--output-broker', 'SASL_SSL+PLAIN\\alice@h:1', ...minimal.slice(0, 4)];

  it('warns once, naming the option and what to use instead, never the value', () => {
    const result = options([...sasl, '--output-broker-sasl-password', 'cli-secret']);
    assert.deepEqual(result.startupWarnings, [
      '--output-broker-sasl-password given on the command line, where ps shows it to every user of this host: ' +
        'use OUTPUT_BROKER_SASL_PASSWORD or --output-broker-sasl-password-file instead',
    ]);
    assert.equal(options([...sasl, '--output-broker-sasl-password=cli-secret']).startupWarnings?.length, 1);
  });

  it('does not warn about passwords from the environment or a config file', () => {
    const path = configFile('password.conf', ['output-broker-sasl-password = file-secret']);
    assert.equal(options(sasl, { OUTPUT_BROKER_SASL_PASSWORD: 'env-secret' }).startupWarnings, undefined);
    assert.equal(options([...sasl, '-c', path]).startupWarnings, undefined);
  });
});
