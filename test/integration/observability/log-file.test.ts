import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../../src/logging/logger.js';
import { createLogger, LogFileError } from '../../../src/logging/logging.js';
import { repoRoot } from '../../support/paths.js';

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG|INFO|WARN|ERROR) (.*)$/;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ekf-log-file-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function logEveryLevel(logger: Logger): void {
  logger.debug('Subscribed', { pv: 'SIM:ai' });
  logger.info('Received config message', { streams: 2 });
  logger.warn('Stream not found', { pv: 'SIM:bo', 'sasl.password': 'hunter2' });
  logger.error('Producer error: sasl.password=hunter2 rejected');
}

describe('logging to a file', () => {
  it('writes the records at or above the verbosity as plain lines, secrets hidden', async () => {
    const path = join(dir, 'warning.log');
    const before = Date.now();
    const logging = createLogger({ verbosity: 'Warning', logFile: path, serviceId: 's' });
    logEveryLevel(logging.logger);
    await logging.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map((line) => LINE.exec(line)?.slice(2)),
      [
        ['WARN', 'Stream not found {"pv":"SIM:bo","sasl.password":"[redacted]"}'],
        ['ERROR', 'Producer error: sasl.password=[redacted] rejected'],
      ],
    );
    for (const line of lines) {
      const time = Date.parse(LINE.exec(line)?.[1] ?? '');
      assert.ok(time >= before - 1 && time <= Date.now());
    }
  });

  it('logs everything at Trace, and appends to an existing file', async () => {
    const path = join(dir, 'trace.log');
    writeFileSync(path, 'earlier line\n');
    const logging = createLogger({ verbosity: 'Trace', logFile: path, serviceId: 's' });
    logEveryLevel(logging.logger);
    await logging.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'earlier line');
    assert.deepEqual(
      lines.slice(1).map((line) => LINE.exec(line)?.[2]),
      ['DEBUG', 'INFO', 'WARN', 'ERROR'],
    );
    assert.ok(!lines.some((line) => line.includes('hunter2')));
  });

  it('writes nothing above error at Critical', async () => {
    const path = join(dir, 'critical.log');
    const logging = createLogger({ verbosity: 'Critical', logFile: path, serviceId: 's' });
    logEveryLevel(logging.logger);
    await logging.close();
    assert.deepEqual(
      readFileSync(path, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => LINE.exec(line)?.[2]),
      ['ERROR'],
    );
  });

  it('follows a change of level at run time', async () => {
    const path = join(dir, 'level-change.log');
    const logging = createLogger({ verbosity: 'Error', logFile: path, serviceId: 's' });
    logging.logger.debug('Hidden');
    logging.logger.level = 'debug';
    logging.logger.debug('Shown');
    logging.logger.level = 'warn';
    logging.logger.info('Hidden again');
    await logging.close();
    assert.deepEqual(
      readFileSync(path, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => LINE.exec(line)?.slice(2)),
      [['DEBUG', 'Shown']],
    );
  });

  it('gives child loggers their own meta', async () => {
    const path = join(dir, 'child.log');
    const logging = createLogger({ verbosity: 'Debug', logFile: path, serviceId: 's' });
    logging.logger.child({ stream: 'SIM:ai' }).debug('Subscribed', { protocol: 'ca' });
    await logging.close();
    assert.deepEqual(LINE.exec(readFileSync(path, 'utf8').trimEnd())?.slice(2), [
      'DEBUG',
      'Subscribed {"stream":"SIM:ai","protocol":"ca"}',
    ]);
  });

  it('refuses a file in a directory that does not exist, naming the path', () => {
    const path = join(dir, 'no-such-dir', 'forwarder.log');
    assert.throws(
      () => createLogger({ verbosity: 'Info', logFile: path, serviceId: 's' }),
      (error: unknown) =>
        error instanceof LogFileError &&
        error.path === path &&
        error.message === `cannot open log file '${path}': no such directory`,
    );
  });

  it('refuses a path that is a directory', () => {
    const path = join(dir, 'a-directory');
    mkdirSync(path);
    assert.throws(
      () => createLogger({ verbosity: 'Info', logFile: path, serviceId: 's' }),
      (error: unknown) => error instanceof LogFileError && error.message.includes('EISDIR'),
    );
  });

  it('survives records logged after close', async () => {
    const path = join(dir, 'late.log');
    const logging = createLogger({ verbosity: 'Info', logFile: path, serviceId: 's' });
    await logging.close();
    const stderrWrite = process.stderr.write;
    const notices: string[] = [];
    process.stderr.write = ((text: string) => {
      notices.push(text);
      return true;
    }) as typeof process.stderr.write;
    try {
      logging.logger.info('Too late');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.stderr.write = stderrWrite;
    }
    assert.deepEqual(notices, ['logging failed: logger: write after end\n']);
  });
});

describe('logging to stderr', () => {
  it('writes plain lines to stderr and nothing to stdout when there is no log file', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join('test', 'integration', 'observability', 'fixtures', 'log-to-stderr.ts'),
        'Info',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    assert.equal(stdout, '');
    assert.deepEqual(
      stderr
        .trimEnd()
        .split('\n')
        .map((line) => LINE.exec(line)?.slice(2)),
      [
        ['INFO', 'info record {"pv":"SIM:ai"}'],
        ['WARN', 'warn record {"sasl.password":"[redacted]"}'],
        ['ERROR', 'error record'],
      ],
    );
  });
});
