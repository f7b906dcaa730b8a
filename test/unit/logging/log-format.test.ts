import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Verbosity } from '../../../src/logging/logging.js';
import {
  compactJson,
  formatLogLine,
  LOGGED_AT,
  type LogRecord,
  loggableValue,
  metaOf,
  REDACTED,
  redactText,
} from '../../../src/logging/log-format.js';
import { LOG_LEVEL_FOR_VERBOSITY } from '../../../src/logging/logging.js';

const at = Date.UTC(2025, 0, 31, 12, 0, 0, 250);

function record(level: string, message: string, meta: Record<string, unknown> = {}): LogRecord {
  return { ...meta, level, message, [LOGGED_AT]: at };
}

describe('verbosity to log level', () => {
  it('maps every verbosity, Trace as Debug and Critical as Error', () => {
    const expected: Record<Verbosity, string> = {
      Trace: 'debug',
      Debug: 'debug',
      Info: 'info',
      Warning: 'warn',
      Error: 'error',
      Critical: 'error',
    };
    assert.deepEqual(LOG_LEVEL_FOR_VERBOSITY, expected);
  });
});

describe('redactText', () => {
  const cases: [string, string][] = [
    ['sasl.password=hunter2', `sasl.password=${REDACTED}`],
    ['sasl.username=alice sasl.password=hunter2 x=1', `sasl.username=alice sasl.password=${REDACTED} x=1`],
    ['ssl.key.password: abc,def', `ssl.key.password: ${REDACTED},def`],
    ['{"sasl.password":"p w","user":"alice"}', `{"sasl.password":"${REDACTED}","user":"alice"}`],
    ["client_secret='s3cr3t'", `client_secret='${REDACTED}'`],
    ['PASSWORD = abc', `PASSWORD = ${REDACTED}`],
    ['passwordFile=/etc/x;next', `passwordFile=${REDACTED};next`],
  ];
  for (const [input, output] of cases) {
    it(`hides the value in ${JSON.stringify(input)}`, () => assert.equal(redactText(input), output));
  }
  it('leaves text without assignments alone, as the same string', () => {
    const text = 'SASL authentication failed: wrong password for user alice';
    assert.equal(redactText(text), text);
  });
});

describe('loggableValue and compactJson', () => {
  it('hides values of secret keys at any depth, whatever their type', () => {
    const meta = {
      'sasl.password': 'p',
      config: { 'ssl.key.password': 'k', secretToken: { a: 1 }, brokers: 'localhost:9092' },
      list: [{ password: 42 }],
    };
    assert.deepEqual(JSON.parse(compactJson(meta) ?? ''), {
      'sasl.password': REDACTED,
      config: { 'ssl.key.password': REDACTED, secretToken: REDACTED, brokers: 'localhost:9092' },
      list: [{ password: REDACTED }],
    });
  });
  it('redacts assignments inside string values', () => {
    assert.equal(compactJson({ dump: 'sasl.password=abc' }), `{"dump":"sasl.password=${REDACTED}"}`);
  });
  it('writes errors as their message (with the class name when not plain Error) and bigints as text', () => {
    assert.equal(loggableValue('error', new Error('boom')), 'boom');
    assert.equal(loggableValue('error', new RangeError('out')), 'RangeError: out');
    assert.equal(compactJson({ big: 2n ** 70n }), '{"big":"1180591620717411303424"}');
  });
  it('survives circular structures', () => {
    const meta: Record<string, unknown> = {};
    meta['self'] = meta;
    assert.equal(compactJson(meta), '"[unserialisable]"');
  });
  it('is compact', () => assert.equal(compactJson({ a: [1, 2], b: 'x' }), '{"a":[1,2],"b":"x"}'));
});

describe('formatLogLine', () => {
  it('writes ISO time, upper-case level and message', () => {
    assert.equal(
      formatLogLine(record('info', 'Forwarder started')),
      '2025-01-31T12:00:00.250Z INFO Forwarder started',
    );
  });
  it('appends meta as compact JSON, secrets hidden', () => {
    assert.equal(
      formatLogLine(record('warn', 'Cannot connect', { broker: 'b:9092', 'sasl.password': 'x', attempt: 3 })),
      `2025-01-31T12:00:00.250Z WARN Cannot connect {"broker":"b:9092","sasl.password":"${REDACTED}","attempt":3}`,
    );
  });
  it('redacts the message', () => {
    assert.equal(
      formatLogLine(record('error', 'Kafka config sasl.password=abc rejected')),
      `2025-01-31T12:00:00.250Z ERROR Kafka config sasl.password=${REDACTED} rejected`,
    );
  });
  it('takes no meta from winston symbols', () => {
    const withSymbols = {
      ...record('debug', 'x'),
      [Symbol.for('level')]: 'debug',
      [Symbol.for('splat')]: [],
    };
    assert.equal(metaOf(withSymbols), undefined);
    assert.equal(formatLogLine(withSymbols), '2025-01-31T12:00:00.250Z DEBUG x');
  });
});
