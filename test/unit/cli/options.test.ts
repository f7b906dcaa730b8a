import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import type { LauncherOptions } from '../../../src/cli/launcher-options.js';
import { launcherOptionTable, parseLauncherArguments, type ParseOutcome } from '../../../src/cli/options.js';
import { packageVersion } from '../../../src/cli/version.js';

const dir = mkdtempSync(join(tmpdir(), 'ekf-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content = ''): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const caFile = file('ca.pem', 'ca');
const certificateFile = file('client.pem', 'certificate');
const keyFile = file('client.key', 'key');
const logFile = join(dir, 'forwarder.log');

const minimal = [
  '--config-topic',
  'localhost:9092/commands',
  '--status-topic',
  'localhost:9092/status',
  '--output-broker',
  'localhost:9092',
];

function parse(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParseOutcome {
  return parseLauncherArguments(argv, env);
}

function options(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LauncherOptions {
  const outcome = parse(argv, env);
  assert.equal(outcome.kind, 'run', outcome.kind === 'exit' ? outcome.output : '');
  return outcome.options;
}

/** The one-line message of a launch that must fail with exit code 2. */
function failure(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const outcome = parse(argv, env);
  assert.equal(outcome.kind, 'exit', `expected a failure for ${argv.join(' ')}`);
  assert.equal(outcome.code, 2);
  assert.match(outcome.output, /^forwarder-launch: [^\n]+\n$/);
  return outcome.output.trimEnd();
}

function configFile(name: string, lines: readonly string[]): string {
  return file(name, lines.join('\n') + '\n');
}

/** Every option, as [long name, value]; a flag has value true. */
const everything: readonly (readonly [string, string | true])[] = [
  ['config-topic', 'SASL_SSL+SCRAM-SHA-512\\forwarder@k1:9093,k2:9093/commands'],
  ['config-topic-sasl-password', 'pw-config'],
  ['status-topic', 'SSL+k1:9093/status'],
  ['output-broker', 'PLAIN\\data@k1:9092/ignored'],
  ['output-broker-sasl-password', 'pw-output'],
  ['storage-topic', 'SCRAM-SHA-256\\store@k1:9092/storage'],
  ['storage-topic-sasl-password', 'pw-storage'],
  ['skip-retrieval', true],
  ['ssl-ca-cert-file', caFile],
  ['ssl-certificate-file', certificateFile],
  ['ssl-key-file', keyFile],
  ['ssl-key-password', 'pw-key'],
  ['kafka-config', 'linger.ms=5;debug=broker,topic'],
  ['graylog-logger-address', 'tcp:127.0.0.1:12201'],
  ['log-file', logFile],
  ['verbosity', 'warning'],
  ['pv-update-period', '2500'],
  ['service-id', 'forwarder-7'],
  ['fake-pv-period', '250'],
  ['status-interval', '1000'],
  ['grafana-carbon-address', 'carbon.example.org'],
  ['statistics-update-interval', '30'],
  ['http-address', '[::1]:8080'],
  ['group-id', 'beamline'],
  ['group-topic', 'beamline_forwarders'],
  ['group-partitions', '8'],
  ['group-session-timeout', '15000'],
];

const everythingResolved: LauncherOptions = {
  configTopic: {
    uri: {
      brokers: 'k1:9093,k2:9093',
      securityProtocol: 'SASL_SSL',
      saslMechanism: 'SCRAM-SHA-512',
      username: 'forwarder',
      topic: 'commands',
    },
    saslPassword: 'pw-config',
    saslPasswordOption: '--config-topic-sasl-password',
    option: '--config-topic',
  },
  statusTopic: {
    uri: { brokers: 'k1:9093', securityProtocol: 'SSL', topic: 'status' },
    option: '--status-topic',
  },
  outputBroker: {
    uri: { brokers: 'k1:9092', securityProtocol: 'SASL_PLAINTEXT', saslMechanism: 'PLAIN', username: 'data' },
    saslPassword: 'pw-output',
    saslPasswordOption: '--output-broker-sasl-password',
    option: '--output-broker',
  },
  storageTopic: {
    uri: {
      brokers: 'k1:9092',
      securityProtocol: 'SASL_PLAINTEXT',
      saslMechanism: 'SCRAM-SHA-256',
      username: 'store',
      topic: 'storage',
    },
    saslPassword: 'pw-storage',
    saslPasswordOption: '--storage-topic-sasl-password',
    option: '--storage-topic',
  },
  skipRetrieval: true,
  tls: { caFile, certificateFile, keyFile, keyPassword: 'pw-key' },
  kafkaProperties: { 'linger.ms': '5', debug: 'broker,topic' },
  graylogLoggerAddress: { host: '127.0.0.1', port: 12201, protocol: 'tcp' },
  logFile,
  verbosity: 'Warning',
  pvUpdatePeriodMs: 2500,
  serviceId: 'forwarder-7',
  fakePvPeriodMs: 250,
  statusIntervalMs: 1000,
  grafanaCarbonAddress: { host: 'carbon.example.org', port: 2003 },
  statisticsUpdateIntervalS: 30,
  httpAddress: { host: '::1', port: 8080 },
  group: { groupId: 'beamline', topic: 'beamline_forwarders', partitions: 8, sessionTimeoutMs: 15_000 },
};

function envName(long: string): string {
  return long.toUpperCase().replaceAll('-', '_');
}

describe('launcher options: sources', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(options(minimal), {
      configTopic: {
        uri: { brokers: 'localhost:9092', securityProtocol: 'PLAINTEXT', topic: 'commands' },
        option: '--config-topic',
      },
      statusTopic: {
        uri: { brokers: 'localhost:9092', securityProtocol: 'PLAINTEXT', topic: 'status' },
        option: '--status-topic',
      },
      outputBroker: {
        uri: { brokers: 'localhost:9092', securityProtocol: 'PLAINTEXT' },
        option: '--output-broker',
      },
      skipRetrieval: false,
      tls: {},
      kafkaProperties: {},
      verbosity: 'Info',
      serviceId: String(process.pid),
      fakePvPeriodMs: 1000,
      statusIntervalMs: 4000,
      statisticsUpdateIntervalS: 10,
    } satisfies LauncherOptions);
  });

  it('reads every option from the command line', () => {
    const argv = everything.flatMap(([long, value]) =>
      value === true ? [`--${long}`] : [`--${long}`, value],
    );
    assert.deepEqual(options(argv), {
      ...everythingResolved,
      startupWarnings: [
        '--config-topic-sasl-password, --output-broker-sasl-password, --storage-topic-sasl-password, ' +
          '--ssl-key-password given on the command line, where ps shows them to every user of this host: use ' +
          'CONFIG_TOPIC_SASL_PASSWORD or --config-topic-sasl-password-file, OUTPUT_BROKER_SASL_PASSWORD or ' +
          '--output-broker-sasl-password-file, STORAGE_TOPIC_SASL_PASSWORD or --storage-topic-sasl-password-file, ' +
          'SSL_KEY_PASSWORD or --ssl-key-password-file instead',
      ],
    });
  });

  it('reads every option from the environment, under the reference names', () => {
    const env = Object.fromEntries(everything.map(([long, value]) => [envName(long), String(value)]));
    assert.deepEqual(options([], env), everythingResolved);
  });

  it('reads every option from a config file', () => {
    const path = configFile(
      'everything.conf',
      everything.map(([long, value]) => (value === true ? long : `${long}=${value}`)),
    );
    assert.deepEqual(options(['--config-file', path]), everythingResolved);
    assert.deepEqual(options([], { CONFIG_FILE: path }), everythingResolved);
  });

  it('has an environment variable for every option, named like the option', () => {
    for (const spec of Object.values(launcherOptionTable)) assert.equal(spec.env, envName(spec.long));
  });

  it('takes short options -s, -v and -c', () => {
    const path = configFile('short.conf', ['service-id=from-file']);
    const result = options([...minimal, '-s', '-v', 'CRITICAL', '-c', path]);
    assert.equal(result.skipRetrieval, true);
    assert.equal(result.verbosity, 'Critical');
    assert.equal(result.serviceId, 'from-file');
  });

  it('takes --name=value', () => {
    assert.equal(options([...minimal, '--pv-update-period=1500']).pvUpdatePeriodMs, 1500);
  });

  it('treats an empty environment variable as unset', () => {
    const result = options(minimal, { PV_UPDATE_PERIOD: '', VERBOSITY: '', CONFIG_FILE: '' });
    assert.equal(result.pvUpdatePeriodMs, undefined);
    assert.equal(result.verbosity, 'Info');
  });

  it('accepts the flag spellings true/false, yes/no, on/off, 1/0 in any case', () => {
    for (const text of ['true', 'YES', 'On', '1']) {
      assert.equal(options(minimal, { SKIP_RETRIEVAL: text }).skipRetrieval, true, text);
    }
    for (const text of ['false', 'No', 'OFF', '0']) {
      assert.equal(options(minimal, { SKIP_RETRIEVAL: text }).skipRetrieval, false, text);
    }
  });

  it('drops the topic part of --output-broker and allows topic-less URIs there', () => {
    assert.equal(options(minimal).outputBroker.uri.topic, undefined);
    const result = options(['--output-broker', 'h:1/data', ...minimal.slice(0, 4)]);
    assert.deepEqual(result.outputBroker.uri, { brokers: 'h:1', securityProtocol: 'PLAINTEXT' });
  });

  it('uses the Graphite default port 2003 only when none is given', () => {
    assert.deepEqual(options([...minimal, '--grafana-carbon-address', 'c:2004']).grafanaCarbonAddress, {
      host: 'c',
      port: 2004,
    });
  });
});

describe('launcher options: precedence', () => {
  const fileWithAll = configFile('precedence.conf', [
    'pv-update-period=1000',
    'verbosity=Debug',
    'skip-retrieval=true',
    'config-topic=file:9092/commands',
    'kafka-config=client.id=file;client.rack=file',
    'kafka-config=sasl.kerberos.kinit.cmd=file',
  ]);
  const envWithAll = {
    CONFIG_FILE: fileWithAll,
    PV_UPDATE_PERIOD: '2000',
    VERBOSITY: 'Error',
    SKIP_RETRIEVAL: 'false',
    CONFIG_TOPIC: 'env:9092/commands',
    KAFKA_CONFIG: 'client.rack=env;sasl.kerberos.service.name=env',
  };
  const required = minimal.slice(2);

  it('command line over environment over config file over default', () => {
    const cli = options(
      [
        ...required,
        '--pv-update-period',
        '3000',
        '-v',
        'Trace',
        '-s',
        '--config-topic',
        'cli:9092/commands',
        '--kafka-config',
        'sasl.kerberos.service.name=cli',
        '--kafka-config',
        'sasl.kerberos.principal=cli',
      ],
      envWithAll,
    );
    assert.equal(cli.pvUpdatePeriodMs, 3000);
    assert.equal(cli.verbosity, 'Trace');
    assert.equal(cli.skipRetrieval, true);
    assert.equal(cli.configTopic.uri.brokers, 'cli:9092');

    const env = options(required, envWithAll);
    assert.equal(env.pvUpdatePeriodMs, 2000);
    assert.equal(env.verbosity, 'Error');
    assert.equal(env.skipRetrieval, false, 'an explicit false in the environment beats true in the file');
    assert.equal(env.configTopic.uri.brokers, 'env:9092');

    const fromFile = options(required, { CONFIG_FILE: fileWithAll });
    assert.equal(fromFile.pvUpdatePeriodMs, 1000);
    assert.equal(fromFile.verbosity, 'Debug');
    assert.equal(fromFile.skipRetrieval, true);
    assert.equal(fromFile.configTopic.uri.brokers, 'file:9092');

    const defaults = options(minimal);
    assert.equal(defaults.pvUpdatePeriodMs, undefined);
    assert.equal(defaults.verbosity, 'Info');
    assert.equal(defaults.skipRetrieval, false);
  });

  it('merges --kafka-config property by property, the higher source winning', () => {
    const cli = options(
      [
        ...minimal,
        '--kafka-config',
        'sasl.kerberos.service.name=cli',
        '--kafka-config',
        'sasl.kerberos.principal=cli;sasl.kerberos.kinit.cmd=cli',
      ],
      envWithAll,
    );
    assert.deepEqual(cli.kafkaProperties, {
      'client.id': 'file',
      'client.rack': 'env',
      'sasl.kerberos.service.name': 'cli',
      'sasl.kerberos.principal': 'cli',
      'sasl.kerberos.kinit.cmd': 'cli',
    });
    assert.deepEqual(options(required, { CONFIG_FILE: fileWithAll }).kafkaProperties, {
      'client.id': 'file',
      'client.rack': 'file',
      'sasl.kerberos.kinit.cmd': 'file',
    });
  });

  it('the last of a repeated command-line option wins', () => {
    assert.equal(options([...minimal, '--service-id', 'a', '--service-id', 'b']).serviceId, 'b');
  });

  it('-c on the command line beats CONFIG_FILE', () => {
    const other = configFile('other.conf', ['service-id=other']);
    const first = configFile('first.conf', ['service-id=first']);
    assert.equal(options([...minimal, '-c', other], { CONFIG_FILE: first }).serviceId, 'other');
  });

  it('takes the required options from a config file alone', () => {
    const path = configFile('required.conf', [
      '# the three required options',
      'config-topic = localhost:9092/commands',
      'status-topic: localhost:9092/status',
      'output-broker localhost:9092',
    ]);
    assert.deepEqual(options(['-c', path]), options(minimal));
  });
});

describe('launcher options: help and version', () => {
  it('prints help to stdout with exit code 0', () => {
    for (const flag of ['--help', '-h']) {
      const outcome = parse([flag]);
      assert.equal(outcome.kind, 'exit');
      assert.equal(outcome.code, 0);
      assert.match(outcome.output, /^Usage: forwarder-launch \[options\]/);
      for (const spec of Object.values(launcherOptionTable)) {
        assert.ok(outcome.output.includes(`--${spec.long}`), spec.long);
        assert.ok(outcome.output.includes(`[${spec.env}]`), spec.env);
      }
      assert.equal(outcome.output.match(/\(required\)/g)?.length, 3);
      assert.match(
        outcome.output,
        /--version +print the version and exit\n +-h, --help +print this help and exit/,
      );
      assert.ok(outcome.output.includes('Kafka URI: [PROTOCOL+][MECHANISM\\][user@]host:port'));
      assert.ok(outcome.output.endsWith('\n'));
      for (const line of outcome.output.split('\n')) assert.ok(line.length <= 100, line);
    }
  });

  it('prints help even when required options are missing or others are wrong', () => {
    const outcome = parse(['--pv-update-period', 'abc', '--help']);
    assert.equal(outcome.kind === 'exit' && outcome.code, 0);
  });

  it('prints the package version with exit code 0', () => {
    assert.deepEqual(parse(['--version']), { kind: 'exit', code: 0, output: `${packageVersion}\n` });
    assert.deepEqual(parse([...minimal, '--version']), {
      kind: 'exit',
      code: 0,
      output: `${packageVersion}\n`,
    });
  });

  it('never exits the process or writes to stdout or stderr itself', () => {
    const exit = mock.method(process, 'exit', () => {
      throw new Error('process.exit called');
    });
    const stdout = mock.method(process.stdout, 'write', () => true);
    const stderr = mock.method(process.stderr, 'write', () => true);
    try {
      for (const argv of [['--help'], ['--version'], ['--bogus'], ['--config-topic'], minimal, []])
        parse(argv);
    } finally {
      const calls = [exit.mock.callCount(), stdout.mock.callCount(), stderr.mock.callCount()];
      exit.mock.restore();
      stdout.mock.restore();
      stderr.mock.restore();
      assert.deepEqual(calls, [0, 0, 0]);
    }
  });
});

describe('launcher options: mistakes are one line and exit code 2', () => {
  const missingConfig = join(dir, 'missing.conf');
  const cases: readonly (readonly [string, readonly string[], NodeJS.ProcessEnv, string])[] = [
    [
      'unknown option',
      [...minimal, '--config-topics', 'x'],
      {},
      'unknown option --config-topics (did you mean --config-topic?)',
    ],
    ['unknown option far from any', [...minimal, '--frobnicate'], {}, 'unknown option --frobnicate'],
    ['unknown short option', [...minimal, '-x'], {}, 'unknown option -x'],
    [
      'flag with a value',
      [...minimal, '--skip-retrieval=yes'],
      {},
      '--skip-retrieval is a flag and takes no value',
    ],
    ['--version with a value', [...minimal, '--version=2'], {}, '--version is a flag and takes no value'],
    [
      'missing value',
      [...minimal, '--pv-update-period'],
      {},
      "option '--pv-update-period <ms>' argument missing",
    ],
    [
      'positional argument',
      [...minimal, 'extra'],
      {},
      'unexpected argument (not shown, as it could be a password): every setting is an option, e.g. --config-topic <uri>',
    ],
    [
      'missing --config-topic',
      minimal.slice(2),
      {},
      '--config-topic is required (on the command line, as CONFIG_TOPIC, or as config-topic in a config file)',
    ],
    [
      'missing --status-topic',
      [...minimal.slice(0, 2), ...minimal.slice(4)],
      {},
      '--status-topic is required (on the command line, as STATUS_TOPIC, or as status-topic in a config file)',
    ],
    [
      'missing --output-broker',
      minimal.slice(0, 4),
      {},
      '--output-broker is required (on the command line, as OUTPUT_BROKER, or as output-broker in a config file)',
    ],
    [
      'missing topic in --config-topic',
      ['--config-topic', 'localhost:9092', ...minimal.slice(2)],
      {},
      '--config-topic: no topic given: add /topic after the brokers',
    ],
    [
      'missing topic in --status-topic',
      [...minimal, '--status-topic', 'h:1'],
      {},
      '--status-topic: no topic given: add /topic after the brokers',
    ],
    [
      'missing topic in --storage-topic',
      [...minimal, '--storage-topic', 'h:1'],
      {},
      '--storage-topic: no topic given: add /topic after the brokers',
    ],
    [
      'bad URI',
      [...minimal, '--config-topic', 'h:99999/commands'],
      {},
      '--config-topic: broker "h:99999": port 99999 is not in 1..65535',
    ],
    [
      'bad URI in --output-broker',
      [...minimal, '--output-broker', 'alice@h:1'],
      {},
      '--output-broker: a user name needs a SASL mechanism: [SASL_PLAINTEXT+|SASL_SSL+]MECHANISM\\user@host:port',
    ],
    [
      'bad URI from the environment',
      minimal.slice(0, 4),
      { OUTPUT_BROKER: 'SASL_SSL+h:1' },
      '--output-broker (from environment variable OUTPUT_BROKER): SASL_SSL needs a SASL mechanism and a user ' +
        'name: SASL_SSL+MECHANISM\\user@host:port',
    ],
    [
      'non-numeric period',
      [...minimal, '--pv-update-period', 'abc'],
      {},
      '--pv-update-period: "abc" is not a positive integer (milliseconds)',
    ],
    [
      'zero period',
      [...minimal, '--pv-update-period', '0'],
      {},
      '--pv-update-period: "0" is not a positive integer (milliseconds)',
    ],
    [
      'negative period',
      [...minimal, '--fake-pv-period', '-5'],
      {},
      '--fake-pv-period: "-5" is not a positive integer (milliseconds)',
    ],
    [
      'fractional period',
      [...minimal, '--status-interval', '1.5'],
      {},
      '--status-interval: "1.5" is not a positive integer (milliseconds)',
    ],
    [
      'exponent period',
      [...minimal, '--status-interval', '1e3'],
      {},
      '--status-interval: "1e3" is not a positive integer (milliseconds)',
    ],
    [
      'period beyond what timers can wait',
      [...minimal, '--pv-update-period', '2147483648'],
      {},
      '--pv-update-period: 2147483648 milliseconds is more than the maximum, 2147483647',
    ],
    [
      'non-numeric interval in seconds',
      [...minimal, '--statistics-update-interval', 'ten'],
      {},
      '--statistics-update-interval: "ten" is not a positive integer (seconds)',
    ],
    [
      'period from the environment',
      minimal,
      { PV_UPDATE_PERIOD: '10ms' },
      '--pv-update-period (from environment variable PV_UPDATE_PERIOD): "10ms" is not a positive integer (milliseconds)',
    ],
    [
      'bad verbosity',
      [...minimal, '-v', 'Verbose'],
      {},
      '--verbosity: "Verbose" is not one of Trace, Debug, Info, Warning, Error, Critical',
    ],
    [
      'bad flag value',
      minimal,
      { SKIP_RETRIEVAL: 'maybe' },
      '--skip-retrieval (from environment variable SKIP_RETRIEVAL): "maybe" is not true or false',
    ],
    [
      'Graylog address without port',
      [...minimal, '--graylog-logger-address', 'graylog'],
      {},
      "--graylog-logger-address: 'graylog' is not [udp:|tcp:]host:port",
    ],
    [
      'Graylog address with an unknown protocol',
      [...minimal, '--graylog-logger-address', 'http:graylog:12201'],
      {},
      "--graylog-logger-address: 'http:graylog:12201' is not [udp:|tcp:]host:port",
    ],
    [
      'bad port',
      [...minimal, '--http-address', 'localhost:0'],
      {},
      '--http-address: port 0 is not in 1..65535',
    ],
    [
      'bad host',
      [...minimal, '--grafana-carbon-address', 'car bon'],
      {},
      '--grafana-carbon-address: host "car bon" contains " "',
    ],
    ['empty service id', [...minimal, '--service-id', ''], {}, '--service-id: must not be empty'],
    [
      'unreadable config file',
      [...minimal, '-c', missingConfig],
      {},
      `--config-file: cannot read "${missingConfig}": no such file or directory`,
    ],
    [
      'unreadable config file from the environment',
      minimal,
      { CONFIG_FILE: missingConfig },
      `--config-file (from environment variable CONFIG_FILE): cannot read "${missingConfig}": no such file or directory`,
    ],
    [
      'unreadable CA file',
      [...minimal, '--ssl-ca-cert-file', join(dir, 'missing.pem')],
      {},
      `--ssl-ca-cert-file: cannot read "${join(dir, 'missing.pem')}": no such file or directory`,
    ],
    [
      'CA file is a directory',
      [...minimal, '--ssl-ca-cert-file', dir],
      {},
      `--ssl-ca-cert-file: cannot read "${dir}": it is a directory`,
    ],
    [
      'log file in a missing directory',
      [...minimal, '--log-file', join(dir, 'nowhere', 'f.log')],
      {},
      `--log-file: cannot write "${join(dir, 'nowhere', 'f.log')}": directory "${join(dir, 'nowhere')}" does not exist`,
    ],
    [
      'log file is a directory',
      [...minimal, '--log-file', dir],
      {},
      `--log-file: cannot write "${dir}": it is a directory`,
    ],
    [
      'SASL without password',
      [...minimal, '--config-topic', 'SASL_SSL+SCRAM-SHA-512\\alice@h:1/commands'],
      {},
      '--config-topic uses SASL_SSL (SCRAM-SHA-512) but has no password: set --config-topic-sasl-password',
    ],
    [
      'password without SASL',
      [...minimal, '--status-topic-sasl-password', 'pw'],
      {},
      '--status-topic-sasl-password is set but --status-topic uses PLAINTEXT, not SASL; the password would be ignored',
    ],
    [
      'storage password without storage topic',
      [...minimal, '--storage-topic-sasl-password', 'pw'],
      {},
      '--storage-topic-sasl-password is set but --storage-topic is not',
    ],
    [
      'certificate without key',
      [...minimal, '--ssl-certificate-file', certificateFile],
      {},
      '--ssl-certificate-file and --ssl-key-file go together: give both or neither',
    ],
    [
      'key without certificate',
      [...minimal, '--ssl-key-file', keyFile],
      {},
      '--ssl-certificate-file and --ssl-key-file go together: give both or neither',
    ],
    [
      'key password without key',
      [...minimal, '--ssl-key-password', 'pw'],
      {},
      '--ssl-key-password is set but --ssl-key-file is not',
    ],
    [
      'bad librdkafka pair',
      [...minimal, '--kafka-config', 'linger.ms'],
      {},
      '--kafka-config: "linger.ms" is not key=value',
    ],
    [
      'nameless librdkafka pair',
      [...minimal, '--kafka-config', '=5'],
      {},
      '--kafka-config: a property has no name before "="',
    ],
    [
      'unknown librdkafka property',
      [...minimal, '--kafka-config', 'linger.msec=5'],
      {},
      '--kafka-config: No such configuration property: "linger.msec"',
    ],
    [
      'bad librdkafka value',
      [...minimal, '--kafka-config', 'compression.codec=zip'],
      {},
      '--kafka-config: Invalid value "zip" for configuration property "compression.codec"',
    ],
    [
      'librdkafka value out of range, from the environment',
      [...minimal],
      { KAFKA_CONFIG: 'linger.ms=-5' },
      '--kafka-config (from environment variable KAFKA_CONFIG): Configuration property "queue.buffering.max.ms" ' +
        'value -5 is outside allowed range 0..900000',
    ],
    [
      'bad librdkafka name',
      [...minimal],
      { KAFKA_CONFIG: 'a=1;linger ms=5' },
      '--kafka-config (from environment variable KAFKA_CONFIG): "linger ms" is not a librdkafka property name',
    ],
  ];

  for (const [what, argv, env, expected] of cases) {
    it(what, () => assert.equal(failure(argv, env), `forwarder-launch: ${expected}`));
  }

  it('keeps the message on one line whatever the value contains', () => {
    assert.equal(
      failure(minimal, { PV_UPDATE_PERIOD: '1\n2\u0085' }),
      'forwarder-launch: --pv-update-period (from environment variable PV_UPDATE_PERIOD): "1\\n2\\u0085" is not a ' +
        'positive integer (milliseconds)',
    );
  });

  it('reports the first mistake in table order', () => {
    assert.equal(
      failure(['--status-interval', 'x', '--pv-update-period', 'y']),
      'forwarder-launch: --pv-update-period: "y" is not a positive integer (milliseconds)',
    );
  });

  it('rejects a log file it may not write', { skip: process.getuid?.() === 0 && 'running as root' }, () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    assert.equal(
      failure([...minimal, '--log-file', join(locked, 'f.log')]),
      `forwarder-launch: --log-file: cannot write "${join(locked, 'f.log')}": permission denied`,
    );
  });
});

describe('launcher options: config file mistakes', () => {
  function fileFailure(lines: readonly string[]): { path: string; message: string } {
    const path = configFile('mistake.conf', lines);
    return { path, message: failure([...minimal, '-c', path]) };
  }

  it('names an unknown key and its line, suggesting the likely one', () => {
    const { path, message } = fileFailure(['# header', 'pv-update-perod=100']);
    assert.equal(
      message,
      `forwarder-launch: --config-file: ${path} line 2: unknown key "pv-update-perod" (did you mean pv-update-period?)`,
    );
    assert.equal(
      fileFailure(['colour=blue']).message,
      `forwarder-launch: --config-file: ${path} line 1: unknown key "colour"`,
    );
    assert.equal(
      fileFailure(['--service-id=a']).message,
      `forwarder-launch: --config-file: ${path} line 1: unknown key "--service-id" (did you mean service-id?)`,
    );
  });

  it('rejects help and version as keys', () => {
    const { path, message } = fileFailure(['version=true']);
    assert.equal(message, `forwarder-launch: --config-file: ${path} line 1: unknown key "version"`);
  });

  it('names the option and line of a bad value', () => {
    const { path, message } = fileFailure(['', 'fake-pv-period = soon']);
    assert.equal(
      message,
      `forwarder-launch: --fake-pv-period (from ${path} line 2): "soon" is not a positive integer (milliseconds)`,
    );
  });

  it('rejects a value option without a value, a second setting, and nested config files', () => {
    const { path, message } = fileFailure(['log-file']);
    assert.equal(message, `forwarder-launch: --config-file: ${path} line 1: log-file needs a value`);
    assert.equal(
      fileFailure(['service-id=a', 'service-id=b']).message,
      `forwarder-launch: --config-file: ${path} line 2: service-id is already set on line 1`,
    );
    assert.equal(
      fileFailure(['config-file=other.conf']).message,
      `forwarder-launch: --config-file: ${path} line 1: config-file cannot be set in a config file`,
    );
  });

  it('reports an empty value as such', () => {
    const { path, message } = fileFailure(['service-id=']);
    assert.equal(message, `forwarder-launch: --service-id (from ${path} line 1): must not be empty`);
  });

  it('reports syntax errors with the line', () => {
    const { path, message } = fileFailure(['service-id="unterminated']);
    assert.equal(
      message,
      `forwarder-launch: --config-file: ${path} line 1: no closing " for the quoted value`,
    );
  });
});

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

describe('launcher options: --http-address', () => {
  const address = (text: string): LauncherOptions['httpAddress'] =>
    options([...minimal, '--http-address', text]).httpAddress;

  it('listens on loopback when given a port alone', () => {
    assert.deepEqual(address('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(options(minimal, { HTTP_ADDRESS: '9100' }).httpAddress, {
      host: '127.0.0.1',
      port: 9100,
    });
  });

  it('listens on the host given with the port', () => {
    assert.deepEqual(address('0.0.0.0:8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(address('monitor.example.org:8080'), { host: 'monitor.example.org', port: 8080 });
    assert.deepEqual(address('[::]:8080'), { host: '::', port: 8080 });
  });

  it('is off by default', () => {
    assert.equal(options(minimal).httpAddress, undefined);
  });

  it('refuses a port out of range or a host without a port', () => {
    assert.equal(
      failure([...minimal, '--http-address', '0']),
      'forwarder-launch: --http-address: port 0 is not in 1..65535',
    );
    assert.equal(
      failure([...minimal, '--http-address', '70000']),
      'forwarder-launch: --http-address: port 70000 is not in 1..65535',
    );
    assert.equal(
      failure([...minimal, '--http-address', 'localhost']),
      'forwarder-launch: --http-address: "localhost" has no port, expected host:port',
    );
  });

  it('says in the help that a port alone means loopback', () => {
    const outcome = parse(['--help']);
    assert.ok(outcome.kind === 'exit');
    assert.match(
      outcome.output.replace(/\s+/g, ' '),
      /--http-address <\[host:\]port> .*a port alone listens on 127\.0\.0\.1 only/,
    );
  });
});

describe('launcher options: forwarding group', () => {
  it('is off without --group-id', () => {
    assert.equal(options(minimal).group, undefined);
  });

  it('names the coordination topic after the group, with 32 partitions and a 10 s session by default', () => {
    assert.deepEqual(options([...minimal, '--group-id', 'bl-7']).group, {
      groupId: 'bl-7',
      topic: 'forwarder_group_bl-7',
      partitions: 32,
      sessionTimeoutMs: 10_000,
    });
  });

  it('refuses a group topic without a group, and a group id that makes no topic name', () => {
    assert.equal(
      failure([...minimal, '--group-topic', 'coordination']),
      'forwarder-launch: --group-topic is set but --group-id is not',
    );
    assert.equal(
      failure([...minimal, '--group-id', 'beam line']),
      'forwarder-launch: --group-id "beam line" makes no valid coordination topic name: give --group-topic',
    );
    assert.equal(options([...minimal, '--group-id', 'beam line', '--group-topic', 'bl']).group?.topic, 'bl');
    assert.equal(
      failure([...minimal, '--group-id', 'g', '--group-partitions', '0']),
      'forwarder-launch: --group-partitions: "0" is not a positive integer (count)',
    );
  });
});
