import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKafkaUri } from '../../../src/kafka/uri.js';
import type { KafkaEndpoint, KafkaUri, TlsOptions } from '../../../src/kafka/endpoint.js';
import { KafkaClientConfigError, kafkaClientConfig } from '../../../src/kafka/client-config.js';

const tls: TlsOptions = {
  caFile: '/etc/kafka/ca.pem',
  certificateFile: '/etc/kafka/client.pem',
  keyFile: '/etc/kafka/client.key',
  keyPassword: 'key-secret',
};

const tlsProperties = {
  'ssl.ca.location': '/etc/kafka/ca.pem',
  'ssl.certificate.location': '/etc/kafka/client.pem',
  'ssl.key.location': '/etc/kafka/client.key',
  'ssl.key.password': 'key-secret',
};

function endpoint(uri: string, saslPassword?: string): KafkaEndpoint {
  return {
    uri: parseKafkaUri(uri),
    option: '--config-topic',
    ...(saslPassword !== undefined && { saslPassword }),
  };
}

function assertRejected(run: () => unknown, expected: string, secret?: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof KafkaClientConfigError, String(error));
    assert.ok(error.message.includes(expected), `"${error.message}" lacks "${expected}"`);
    if (secret !== undefined) assert.ok(!error.message.includes(secret));
    return true;
  });
}

describe('librdkafka properties of an endpoint', () => {
  it('PLAINTEXT: brokers and protocol only, TLS settings left out', () => {
    assert.deepEqual(kafkaClientConfig(endpoint('h1:9092,h2:9093/t'), tls, {}), {
      'bootstrap.servers': 'h1:9092,h2:9093',
      'security.protocol': 'plaintext',
    });
  });

  it('SSL: the TLS files', () => {
    assert.deepEqual(kafkaClientConfig(endpoint('SSL+h:9093'), tls, {}), {
      'bootstrap.servers': 'h:9093',
      'security.protocol': 'ssl',
      ...tlsProperties,
    });
  });

  it('SSL: only the TLS settings that are given', () => {
    assert.deepEqual(kafkaClientConfig(endpoint('SSL+h:9093'), { caFile: '/ca.pem' }, {}), {
      'bootstrap.servers': 'h:9093',
      'security.protocol': 'ssl',
      'ssl.ca.location': '/ca.pem',
    });
  });

  it('SASL_PLAINTEXT: the SASL settings, no TLS', () => {
    assert.deepEqual(kafkaClientConfig(endpoint('SCRAM-SHA-256\\alice@h:9092/t', 'pw'), tls, {}), {
      'bootstrap.servers': 'h:9092',
      'security.protocol': 'sasl_plaintext',
      'sasl.mechanisms': 'SCRAM-SHA-256',
      'sasl.username': 'alice',
      'sasl.password': 'pw',
    });
  });

  it('SASL_SSL: SASL and TLS settings', () => {
    assert.deepEqual(kafkaClientConfig(endpoint('SASL_SSL+SCRAM-SHA-512\\alice@h:9094/t', 'pw'), tls, {}), {
      'bootstrap.servers': 'h:9094',
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'alice',
      'sasl.password': 'pw',
      ...tlsProperties,
    });
  });

  it('applies the extra properties last, overriding the others', () => {
    const config = kafkaClientConfig(
      endpoint('h:9092'),
      {},
      { 'linger.ms': '5', 'bootstrap.servers': 'other:1' },
    );
    assert.deepEqual(config, {
      'bootstrap.servers': 'other:1',
      'security.protocol': 'plaintext',
      'linger.ms': '5',
    });
  });

  it('does not modify the extra properties it is given', () => {
    const extra = { 'linger.ms': '5' };
    kafkaClientConfig(endpoint('h:9092'), {}, extra);
    assert.deepEqual(extra, { 'linger.ms': '5' });
  });
});

describe('librdkafka properties: mistakes', () => {
  it('a SASL endpoint without password names the password option', () => {
    assertRejected(
      () => kafkaClientConfig(endpoint('SASL_SSL+PLAIN\\alice@h:1/t'), {}, {}),
      '--config-topic uses SASL_SSL (PLAIN) but has no password: set --config-topic-sasl-password',
    );
    assertRejected(
      () => kafkaClientConfig(endpoint('SASL_SSL+PLAIN\\alice@h:1/t', ''), {}, {}),
      'set --config-topic-sasl-password',
    );
  });

  it('an endpoint without option name is named by its brokers', () => {
    const uri = parseKafkaUri('PLAIN\\alice@h:1/t');
    assertRejected(
      () => kafkaClientConfig({ uri }, {}, {}),
      'Kafka endpoint h:1 uses SASL_PLAINTEXT (PLAIN) but has no password: set its SASL password',
    );
  });

  it('a SASL endpoint without user or mechanism is refused', () => {
    const base: KafkaUri = { brokers: 'h:1', securityProtocol: 'SASL_PLAINTEXT' };
    for (const uri of [
      base,
      { ...base, saslMechanism: 'PLAIN' as const },
      { ...base, saslMechanism: 'PLAIN' as const, username: '' },
      { ...base, username: 'alice' },
    ]) {
      assertRejected(
        () => kafkaClientConfig({ uri, saslPassword: 'pw', option: '--status-topic' }, {}, {}),
        '--status-topic uses SASL_PLAINTEXT but has no SASL mechanism or user',
        'pw',
      );
    }
  });

  it('a password for an endpoint without SASL is refused rather than ignored', () => {
    for (const uri of ['h:1/t', 'SSL+h:1/t']) {
      assertRejected(
        () => kafkaClientConfig(endpoint(uri, 'hunter2'), tls, {}),
        '--config-topic-sasl-password is set but --config-topic uses',
        'hunter2',
      );
    }
  });
});
