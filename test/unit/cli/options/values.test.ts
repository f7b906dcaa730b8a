/** Values of single options, as their kinds (src/option-values/) parse them. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LauncherOptions } from '../../../../src/cli/launcher-options.js';
import { dir, failure, itRefuses, minimal, type MistakeCase, options, parse } from './support.js';

describe('launcher options: wrong values are one line and exit code 2', () => {
  const cases: readonly MistakeCase[] = [
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
      'Kafka internal topic as the config topic',
      [...minimal, '--config-topic', 'h:1/__consumer_offsets'],
      {},
      '--config-topic: topic "__consumer_offsets" is reserved for Kafka\'s internal topics (names beginning with "__")',
    ],
    [
      '"." as the storage topic',
      [...minimal, '--storage-topic', 'h:1/.'],
      {},
      '--storage-topic: topic "." is not a valid topic name ("." and ".." are refused by Kafka)',
    ],
    [
      'Kafka internal topic as the group topic',
      [...minimal, '--group-id', 'g', '--group-topic', '__transaction_state'],
      {},
      '--group-topic: topic "__transaction_state" is reserved for Kafka\'s internal topics (names beginning with "__")',
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

  itRefuses(cases);

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
