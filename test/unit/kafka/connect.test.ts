import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { connectWithRetry, KafkaClientCreationError, logClientErrors } from '../../../src/kafka/connect.js';
import type { Logger } from '../../../src/logging/logger.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string): void => {
      lines.push(`${level} ${message}`);
    };
  return {
    lines,
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
  };
}

function kafkaError(message: string, code: number): RdKafka.LibrdKafkaError {
  return Object.assign(new Error(message), { code, errno: code, origin: 'kafka' }) as RdKafka.LibrdKafkaError;
}

/** A client whose connect() answers, attempt by attempt, with what `outcomes` says (`'hang'`: never). */
class ScriptedClient extends EventEmitter {
  attempts = 0;
  constructor(private readonly outcomes: readonly (RdKafka.LibrdKafkaError | null | 'hang')[]) {
    super();
  }
  connect(_options: unknown, callback: (error: RdKafka.LibrdKafkaError | null) => void): void {
    const outcome = this.outcomes[this.attempts++] ?? null;
    if (outcome !== 'hang') setImmediate(() => callback(outcome));
  }
}

const quick = { attemptTimeoutMs: 1000, retryDelayMs: 10 };
const transportFailure = kafkaError('broker transport failure', rdkafka.CODES.ERRORS.ERR__TRANSPORT);

describe('connectWithRetry', () => {
  it('retries until the client connects, logging each failure', async () => {
    const client = new ScriptedClient([transportFailure, transportFailure, null]);
    const logger = recordingLogger();
    await connectWithRetry(client, 'output producer', logger, quick);
    assert.equal(client.attempts, 3);
    assert.deepEqual(logger.lines, [
      'error Kafka output producer: could not connect (attempt 1): broker transport failure; retrying in 0.01 s',
      'error Kafka output producer: could not connect (attempt 2): broker transport failure; retrying in 0.01 s',
      'info Kafka output producer: connected after 3 attempts',
    ]);
  });

  it('does not retry a client librdkafka could not create', async () => {
    const client = new ScriptedClient([
      kafkaError('ssl.ca.location failed: no certificate', rdkafka.CODES.ERRORS.ERR__STATE),
    ]);
    await assert.rejects(
      connectWithRetry(client, 'status producer', recordingLogger(), quick),
      (error) =>
        error instanceof KafkaClientCreationError &&
        error.message ===
          'Kafka status producer: invalid client configuration: ssl.ca.location failed: no certificate',
    );
    assert.equal(client.attempts, 1);
  });

  it('makes no further attempt once cancelled, without a pause', async () => {
    const client = new ScriptedClient([transportFailure, null]);
    const started = Date.now();
    await assert.rejects(
      connectWithRetry(client, 'p', recordingLogger(), {
        ...quick,
        retryDelayMs: 60_000,
        cancelled: () => true,
      }),
      /Kafka p: connecting cancelled/,
    );
    assert.equal(client.attempts, 1);
    assert.ok(Date.now() - started < 5000);
  });

  it('gives up during a pause between attempts once aborted', async () => {
    const shutdown = new AbortController();
    const client = new ScriptedClient([transportFailure, null]);
    const connecting = connectWithRetry(client, 'p', recordingLogger(), {
      ...quick,
      retryDelayMs: 60_000,
      abort: shutdown.signal,
    });
    setTimeout(() => shutdown.abort(), 50);
    await assert.rejects(connecting, /Kafka p: connecting cancelled/);
    assert.equal(client.attempts, 1);
  });

  it('gives up during an attempt that does not end once aborted', async () => {
    const shutdown = new AbortController();
    const client = new ScriptedClient(['hang']);
    const connecting = connectWithRetry(client, 'p', recordingLogger(), { ...quick, abort: shutdown.signal });
    setTimeout(() => shutdown.abort(), 50);
    await assert.rejects(connecting, /Kafka p: connecting cancelled/);
  });
});

describe('logClientErrors', () => {
  it("logs error events and librdkafka's error-level log lines, rate-limited, and nothing milder", () => {
    const client = new ScriptedClient([]);
    const logger = recordingLogger();
    logClientErrors(client, 'config consumer', logger);
    client.emit('event.log', {
      severity: 7,
      fac: 'BROKER',
      message: '[thrd:main]: debug chatter',
    });
    client.emit('event.log', {
      severity: 3,
      fac: 'FAIL',
      message:
        '[thrd:sasl_ssl://127.0.0.1:9093/bootstrap]: sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication ' +
        'error: Authentication failed due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    });
    client.emit('event.error', transportFailure);
    assert.deepEqual(logger.lines, [
      'error Kafka config consumer: sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: ' +
        'Authentication failed due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    ]);
  });

  it("logs a consumer's offset reset as a warning, and no other warning", () => {
    const client = new ScriptedClient([]);
    const logger = recordingLogger();
    logClientErrors(client, 'config consumer', logger);
    client.emit('event.log', {
      severity: 4,
      fac: 'CONFWARN',
      message: '[thrd:app]: a configuration warning',
    });
    client.emit('event.log', {
      severity: 4,
      fac: 'OFFSET',
      message:
        '[thrd:main]: config [0]: offset reset (at offset 12 (leader epoch 0), broker 1) to END: fetch failed due ' +
        'to requested offset not available on the broker: Broker: Offset out of range',
    });
    assert.deepEqual(logger.lines, [
      'warn Kafka config consumer: config [0]: offset reset (at offset 12 (leader epoch 0), broker 1) to END: ' +
        'fetch failed due to requested offset not available on the broker: Broker: Offset out of range',
    ]);
  });
});
