import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KafkaUriError, parseKafkaUri } from '../../../src/kafka/uri.js';

/** Asserts that parsing fails with a KafkaUriError whose message contains `expected`. */
function assertRejected(uri: string, expected: string): void {
  assert.throws(
    () => parseKafkaUri(uri),
    (error: unknown) => {
      assert.ok(error instanceof KafkaUriError, `${uri}: ${String(error)}`);
      assert.ok(error.message.includes(expected), `${uri}: "${error.message}" lacks "${expected}"`);
      return true;
    },
  );
}

describe('Kafka URI: the reference unit-test cases', () => {
  it('accepts a URI without a topic', () => {
    assert.deepEqual(parseKafkaUri('SASL_PLAINTEXT+SCRAM-SHA-256\\user@localhost:9092'), {
      brokers: 'localhost:9092',
      securityProtocol: 'SASL_PLAINTEXT',
      saslMechanism: 'SCRAM-SHA-256',
      username: 'user',
    });
  });

  it('splits broker and topic (a missing port becomes 9092)', () => {
    assert.deepEqual(parseKafkaUri('localhost/some_topic'), {
      brokers: 'localhost:9092',
      securityProtocol: 'PLAINTEXT',
      topic: 'some_topic',
    });
  });

  it('keeps the port', () => {
    assert.deepEqual(parseKafkaUri('localhost:9092/some_topic'), {
      brokers: 'localhost:9092',
      securityProtocol: 'PLAINTEXT',
      topic: 'some_topic',
    });
  });

  it('rejects a user name without protocol and mechanism', () => {
    assertRejected('some_user@localhost:9092/some_topic', 'a user name needs a SASL mechanism');
  });

  it('accepts a mechanism without a protocol as SASL_PLAINTEXT (the reference rejects it)', () => {
    assert.deepEqual(parseKafkaUri('SCRAM-SHA-256\\some_user@localhost:9092/some_topic'), {
      brokers: 'localhost:9092',
      securityProtocol: 'SASL_PLAINTEXT',
      saslMechanism: 'SCRAM-SHA-256',
      username: 'some_user',
      topic: 'some_topic',
    });
  });

  it('rejects a SASL protocol and user without a mechanism', () => {
    assertRejected('SASL_SSL+some_user@localhost:9092/some_topic', 'SASL_SSL needs a SASL mechanism');
  });

  it('accepts protocol, mechanism, user, port and topic', () => {
    assert.deepEqual(parseKafkaUri('SASL_PLAINTEXT+PLAIN\\some_user@localhost:9092/some_topic'), {
      brokers: 'localhost:9092',
      securityProtocol: 'SASL_PLAINTEXT',
      saslMechanism: 'PLAIN',
      username: 'some_user',
      topic: 'some_topic',
    });
  });

  it('rejects an empty broker', () => {
    assertRejected('SASL_PLAINTEXT+PLAIN\\some_user@/some_topic', 'no broker given');
  });

  it('rejects an unknown protocol or mechanism', () => {
    assertRejected(
      'xSASL_SSL+PLAIN\\some_user@localhost:9092/some_topic',
      'unknown security protocol "xSASL_SSL" (expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)',
    );
    assertRejected(
      'SASL_SSL+xPLAIN\\some_user@localhost:9092/some_topic',
      'unknown SASL mechanism "xPLAIN" (expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)',
    );
  });

  it('rejects an empty user name', () => {
    assertRejected('SASL_PLAINTEXT+PLAIN\\@localhost:9092', 'empty user name');
  });
});

describe('Kafka URI: every accepted form', () => {
  it('takes each protocol and each mechanism, in any case, and normalises them', () => {
    assert.deepEqual(parseKafkaUri('PLAINTEXT+h:1/t'), {
      brokers: 'h:1',
      securityProtocol: 'PLAINTEXT',
      topic: 't',
    });
    assert.deepEqual(parseKafkaUri('ssl+h:1/t'), { brokers: 'h:1', securityProtocol: 'SSL', topic: 't' });
    for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL'] as const) {
      for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
        const uri = parseKafkaUri(`${protocol.toLowerCase()}+${mechanism.toLowerCase()}\\alice@h:1/t`);
        assert.deepEqual(uri, {
          brokers: 'h:1',
          securityProtocol: protocol,
          saslMechanism: mechanism,
          username: 'alice',
          topic: 't',
        });
      }
    }
  });

  it('accepts the working form of the reference README', () => {
    const uri = parseKafkaUri('SASL_SSL+SCRAM-SHA-256\\alice@10.1.1.1:9092/topic');
    assert.equal(uri.securityProtocol, 'SASL_SSL');
    assert.equal(uri.brokers, '10.1.1.1:9092');
  });

  it('takes a list of brokers, each with or without a port', () => {
    assert.equal(parseKafkaUri('h1:9092,h2,10.0.0.1:1/t').brokers, 'h1:9092,h2:9092,10.0.0.1:1');
  });

  it('takes IPv6 addresses in brackets', () => {
    assert.equal(parseKafkaUri('[::1]:9093').brokers, '[::1]:9093');
    assert.equal(
      parseKafkaUri('[fe80::1],[::ffff:127.0.0.1]:1/t').brokers,
      '[fe80::1]:9092,[::ffff:127.0.0.1]:1',
    );
  });

  it('accepts ports 1 and 65535', () => {
    assert.equal(parseKafkaUri('h:1,h:65535').brokers, 'h:1,h:65535');
  });

  it('takes user names containing "@", "+" and "\\" (the last "@" ends the user name)', () => {
    assert.equal(parseKafkaUri('PLAIN\\alice@example.org@h:1/t').username, 'alice@example.org');
    assert.equal(parseKafkaUri('PLAIN\\bob+kafka@h:1/t').username, 'bob+kafka');
    assert.equal(parseKafkaUri('SASL_SSL+PLAIN\\bob+kafka@h:1/t').username, 'bob+kafka');
    assert.equal(parseKafkaUri('PLAIN\\DOMAIN\\bob@h:1').username, 'DOMAIN\\bob');
  });

  it('takes every legal topic character', () => {
    assert.equal(parseKafkaUri('h:1/Forwarder.data_v-2').topic, 'Forwarder.data_v-2');
    assert.equal(parseKafkaUri(`h:1/${'t'.repeat(249)}`).topic?.length, 249);
  });
});

describe('Kafka URI: mistakes', () => {
  it('rejects empty and blank-containing URIs', () => {
    assertRejected('', 'empty Kafka URI');
    assertRejected('no slash in string', 'white space');
    assertRejected('h:1/t ', 'white space');
  });

  it('rejects a missing or empty broker', () => {
    assertRejected('/topic', 'no broker given');
    assertRejected('SSL+', 'no broker given');
    assertRejected('h1:1,,h2:2/t', 'empty broker address in "h1:1,,h2:2"');
    assertRejected('h1:1,', 'empty broker address');
    assertRejected(':9092/t', 'no host in ":9092"');
  });

  it('rejects bad ports, naming the broker', () => {
    assertRejected('h:0/t', 'broker "h:0": port 0 is not in 1..65535');
    assertRejected('h:65536/t', 'port 65536 is not in 1..65535');
    assertRejected('h:99999999999999999999', 'is not in 1..65535');
    assertRejected('h:abc/t', 'port "abc" is not a number');
    assertRejected('h:-1/t', 'port "-1" is not a number');
    assertRejected('h:/t', 'no port after ":" in "h:"');
  });

  it('rejects bad hosts and unbracketed IPv6', () => {
    assertRejected('::1:9092', 'an IPv6 address goes in brackets');
    assertRejected('[::1:9092', 'missing "]"');
    assertRejected('[nothex]:1', '"nothex" is not an IPv6 address');
    assertRejected('[::1]9092', 'expected ":port" after "]"');
    assertRejected('PLAIN\\alice@h\\x:1', 'host "h\\x" contains "\\"');
    assertRejected('h*:1', 'host "h*" contains "*"');
  });

  it('rejects bad topics', () => {
    assertRejected('h:1/', 'empty topic after "/"');
    assertRejected('h:1/a/b', 'more than one "/"');
    assertRejected('h:1/a$b', 'topic "a$b" may only contain letters, digits, ".", "_" and "-"');
    assertRejected('h:1/t+x', 'may only contain');
    assertRejected('h:1/..', '".." is not a valid topic name');
    assertRejected(`h:1/${'t'.repeat(250)}`, 'at most 249');
  });

  it('rejects SASL without mechanism or user', () => {
    assertRejected('SASL_SSL+h:1/t', 'SASL_SSL needs a SASL mechanism and a user name');
    assertRejected('SASL_PLAINTEXT+h:1/t', 'SASL_PLAINTEXT needs a SASL mechanism');
    assertRejected('SASL_SSL+PLAIN\\h:1/t', 'SASL mechanism PLAIN needs a user name');
    assertRejected('SCRAM-SHA-512\\h:1/t', 'SASL mechanism SCRAM-SHA-512 needs a user name');
  });

  it('rejects a user or mechanism with SSL or PLAINTEXT', () => {
    assertRejected('SSL+alice@h:1/t', 'a user name needs a SASL mechanism');
    assertRejected('PLAINTEXT+alice@h:1/t', 'a user name needs a SASL mechanism');
    assertRejected('SSL+PLAIN\\alice@h:1/t', 'SSL does not use SASL, so it takes no mechanism PLAIN');
    assertRejected('PLAINTEXT+SCRAM-SHA-256\\alice@h:1', 'PLAINTEXT does not use SASL');
  });

  it('rejects empty parts and extra separators', () => {
    assertRejected('+h:1/t', 'empty security protocol before "+"');
    assertRejected('SASL_SSL+\\alice@h:1/t', 'empty SASL mechanism before "\\"');
    assertRejected('SASL_SSL+SCRAM-SHA-256+x\\alice@h:1/t', 'unknown SASL mechanism "SCRAM-SHA-256+x"');
    assertRejected('SASL_SSL+SASL_SSL+PLAIN\\alice@h:1/t', 'unknown SASL mechanism "SASL_SSL+PLAIN"');
    assertRejected('alice@bob@h:1/t', 'a user name needs a SASL mechanism');
  });

  it('refuses user:password and never repeats it', () => {
    assert.throws(
      () => parseKafkaUri('SASL_SSL+PLAIN\\alice:hunter2@h:1/t'),
      (error: unknown) => {
        assert.ok(error instanceof KafkaUriError);
        assert.match(error.message, /user name contains ":".*-sasl-password option/);
        assert.ok(!error.message.includes('hunter2'));
        assert.ok(!error.message.includes('alice'));
        return true;
      },
    );
  });
});
