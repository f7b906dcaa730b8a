import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../src/logging/logger.js';
import { createLogger, type Logging } from '../../../src/logging/logging.js';
import { GelfTcpListener, GelfUdpListener, type GelfMessage } from './gelf-listener.js';

const SECRET = 'hunter2-do-not-log';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ekf-gelf-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A logger writing its lines to a file of the test directory (kept off the test output), Graylog as given. */
function loggingTo(graylog: { port: number; protocol: 'udp' | 'tcp' }, name: string): Logging {
  return createLogger({
    verbosity: 'Info',
    serviceId: 'fwd-test',
    hostName: 'test-host',
    logFile: join(dir, `${name}.log`),
    graylog: { host: '127.0.0.1', ...graylog },
  });
}

/** What every record carries, checked field by field. */
function assertEnvelope(message: GelfMessage, level: number, since: number): void {
  assert.equal(message['version'], '1.1');
  assert.equal(message['host'], 'test-host');
  assert.equal(message['level'], level);
  assert.equal(message['_service_id'], 'fwd-test');
  assert.equal(message['_logger'], 'forwarder');
  assert.equal(message['_process_id'], process.pid);
  const timestamp = message['timestamp'];
  assert.equal(typeof timestamp, 'number');
  assert.ok((timestamp as number) >= since / 1000 && (timestamp as number) <= Date.now() / 1000);
}

/** Logs the standard set of records: three short ones (one with a secret) and a debug one that is filtered. */
function logStandardRecords(logger: Logger): void {
  logger.info('Stream added', {
    pv: 'SIM:ai',
    periodic: 1,
    'sasl.password': SECRET,
    config: { 'bootstrap.servers': 'localhost:9092', 'sasl.password': SECRET },
  });
  logger.debug('Not at Info verbosity');
  logger.warn(`Config rejected: sasl.password=${SECRET} is not allowed here`);
  logger.error('Producer failed\n  at line 1\n  at line 2', { id: 42 });
}

function assertStandardRecords(received: GelfMessage[], since: number): void {
  assert.ok(!JSON.stringify(received).includes(SECRET), 'a secret reached Graylog');
  const [added, rejected, failed] = received;
  assert.ok(added && rejected && failed);
  assertEnvelope(added, 6, since);
  assert.equal(added['short_message'], 'Stream added');
  assert.equal(added['full_message'], undefined);
  assert.equal(added['_pv'], 'SIM:ai');
  assert.equal(added['_periodic'], 1);
  assert.equal(added['_sasl.password'], '[redacted]');
  assert.deepEqual(JSON.parse(added['_config'] as string), {
    'bootstrap.servers': 'localhost:9092',
    'sasl.password': '[redacted]',
  });
  assertEnvelope(rejected, 4, since);
  assert.equal(rejected['short_message'], 'Config rejected: sasl.password=[redacted] is not allowed here');
  assertEnvelope(failed, 3, since);
  assert.equal(failed['short_message'], 'Producer failed');
  assert.equal(failed['full_message'], 'Producer failed\n  at line 1\n  at line 2');
  assert.equal(failed['_meta_id'], 42);
  assert.equal(failed['_id'], undefined);
}

describe('GELF over UDP to a local listener', () => {
  it('delivers records with every field, secrets hidden, debug filtered, large ones gzipped and chunked', async () => {
    const listener = await GelfUdpListener.start();
    const logging = loggingTo({ port: listener.port, protocol: 'udp' }, 'udp');
    try {
      const since = Date.now();
      logStandardRecords(logging.logger);
      // Random base64 barely compresses: ~40 kB of JSON, gzipped, needs several 8 kB chunks.
      const large = randomBytes(30_000).toString('base64');
      logging.logger.info(large);
      const received = await listener.waitFor(4);
      assertStandardRecords(received, since);
      const big = received[3];
      assert.equal(big?.['full_message'], large);
      assert.equal(big['short_message'], large.slice(0, 250));
      assert.equal(listener.compressed, 1);
      assert.ok(listener.datagrams >= 3 + 4, `only ${listener.datagrams} datagrams`);
      await logging.close();
      assert.deepEqual(logging.graylogStats, { sent: 4, dropped: 0, errors: 0 });
      await sleep(50);
      assert.equal(listener.messages.length, 4);
    } finally {
      await logging.close();
      await listener.close();
    }
  });

  it('drops a record too large even for 128 chunks, counts it and says so', async () => {
    const listener = await GelfUdpListener.start();
    const logging = loggingTo({ port: listener.port, protocol: 'udp' }, 'udp-oversized');
    try {
      logging.logger.info(randomBytes(1_200_000).toString('base64'));
      logging.logger.info('Small one');
      const received = await listener.waitFor(2);
      assert.deepEqual(
        received.map((message) => message['level']),
        [4, 6],
      );
      assert.match(received[0]?.['short_message'] as string, /too large even for 128 chunks/);
      assert.equal(received[1]?.['short_message'], 'Small one');
      await logging.close();
      assert.deepEqual(logging.graylogStats, { sent: 2, dropped: 1, errors: 0 });
    } finally {
      await logging.close();
      await listener.close();
    }
  });

  it('neither blocks nor throws when nothing listens: errors are counted and reported once', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    await new Promise<void>((resolve) => socket.close(resolve));

    const logging = loggingTo({ port, protocol: 'udp' }, 'udp-unreachable');
    const started = performance.now();
    for (let i = 0; i < 50; i++) {
      logging.logger.info('Nobody hears this', { i });
      await sleep(1);
    }
    assert.ok(performance.now() - started < 2000);
    const closing = performance.now();
    await logging.close();
    assert.ok(performance.now() - closing < 1500);
    const stats = logging.graylogStats;
    assert.ok(stats !== undefined && stats.errors > 0, JSON.stringify(stats));
    const problems = readFileSync(join(dir, 'udp-unreachable.log'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('Graylog at udp:127.0.0.1'));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', / WARN .*ECONNREFUSED/);
  });
});

describe('GELF over TCP to a local listener', () => {
  it('delivers null-delimited records, including those logged before the connection was up', async () => {
    const listener = await GelfTcpListener.start();
    const logging = loggingTo({ port: listener.port, protocol: 'tcp' }, 'tcp');
    try {
      const since = Date.now();
      logStandardRecords(logging.logger);
      const received = await listener.waitFor(3);
      assertStandardRecords(received, since);
      await logging.close();
      assert.deepEqual(logging.graylogStats, { sent: 3, dropped: 0, errors: 0 });
    } finally {
      await logging.close();
      await listener.close();
    }
  });

  it('reconnects after Graylog restarts', async () => {
    let listener = await GelfTcpListener.start();
    const port = listener.port;
    const logging = loggingTo({ port, protocol: 'tcp' }, 'tcp-restart');
    try {
      logging.logger.info('Before the restart');
      await listener.waitFor(1);
      await listener.close();
      await sleep(100);
      logging.logger.info('While Graylog is down');
      listener = await GelfTcpListener.start({ port });
      // The transport retries every 2 s; give it one chance, then log again.
      const deadline = Date.now() + 5000;
      while (listener.connectionCount === 0 && Date.now() < deadline) await sleep(50);
      assert.equal(listener.connectionCount, 1);
      logging.logger.info('After the restart');
      await listener.waitFor('After the restart');
    } finally {
      await logging.close();
      await listener.close();
    }
  });

  it('drops records instead of buffering without bound when Graylog stops reading', async () => {
    const listener = await GelfTcpListener.start({ paused: true });
    const logging = loggingTo({ port: listener.port, protocol: 'tcp' }, 'tcp-slow');
    try {
      await sleep(100);
      const record = randomBytes(48_000).toString('base64');
      const started = performance.now();
      for (let i = 0; i < 400; i++) logging.logger.info(record);
      assert.ok(performance.now() - started < 5000);
      const stats = logging.graylogStats;
      assert.ok(
        stats !== undefined && stats.dropped > 0 && stats.sent + stats.dropped === 400,
        JSON.stringify(stats),
      );
    } finally {
      await logging.close();
      await listener.close();
    }
  });

  it('neither blocks nor throws when nothing listens: records are dropped and counted', async () => {
    const listener = await GelfTcpListener.start();
    const port = listener.port;
    await listener.close();
    const logging = loggingTo({ port, protocol: 'tcp' }, 'tcp-unreachable');
    for (let i = 0; i < 20; i++) logging.logger.info('Nobody hears this', { i });
    await sleep(200);
    const closing = performance.now();
    await logging.close();
    assert.ok(performance.now() - closing < 1500);
    // The 20 records, and the warning about Graylog, which goes to every destination.
    assert.deepEqual(logging.graylogStats, { sent: 0, dropped: 21, errors: 1 });
    const log = readFileSync(join(dir, 'tcp-unreachable.log'), 'utf8');
    assert.match(log, / WARN Graylog at tcp:127\.0\.0\.1:\d+: cannot connect.*ECONNREFUSED/);
  });
});
