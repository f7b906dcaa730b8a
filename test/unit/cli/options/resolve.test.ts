/** Sources and precedence: command line over environment over config file over default. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LauncherOptions } from '../../../../src/cli/launcher-options.js';
import { launcherOptionTable } from '../../../../src/cli/options/table.js';
import {
  caFile,
  certificateFile,
  configFile,
  dir,
  envName,
  failure,
  itRefuses,
  keyFile,
  logFile,
  minimal,
  type MistakeCase,
  options,
} from './support.js';

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

describe('launcher options: mistakes in reading the sources are one line and exit code 2', () => {
  const missingConfig = join(dir, 'missing.conf');
  const cases: readonly MistakeCase[] = [
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
  ];

  itRefuses(cases);

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
