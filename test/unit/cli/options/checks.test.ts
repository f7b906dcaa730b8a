/** Checks across options: required options, passwords where they are used, TLS files, the forwarding group. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  certificateFile,
  failure,
  itRefuses,
  keyFile,
  minimal,
  type MistakeCase,
  options,
} from './support.js';

describe('launcher options: options at odds are one line and exit code 2', () => {
  const cases: readonly MistakeCase[] = [
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
  ];

  itRefuses(cases);
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
