/**
 * Signals in every phase of forwarder-launch: SIGTERM and SIGINT end it within 2 s while it connects to Kafka,
 * waits for a topic or restores its stream set; a storage topic that holds something else ends start-up with
 * exit code 2 and one clear error instead of a walk back over every message; SIGHUP reopens the log file, as
 * deploy/forwarder.logrotate asks after rotating it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_NON_STORED_MESSAGES } from '../../../src/storage/restore.js';
import { ForwarderProcess, stoppedInStartUp } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { createTopics, produceMessages, uniqueTopic } from '../../support/kafka.js';
import { repoRoot } from '../../support/paths.js';
import { freePort } from '../../support/ports.js';
import { onlyOptionVariables } from './launch.js';

const world = ForwarderWorld.setUp({ ioc: false });
const dir = mkdtempSync(join(tmpdir(), 'ekf-signals-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The limit the issue of hung start-ups set: a stop asked for ends the process this fast, in every phase. */
const STOP_WITHIN_MS = 2_000;

function start(args: readonly string[]): ForwarderProcess {
  const forwarder = ForwarderProcess.start(args, onlyOptionVariables());
  world.forwarders.push(forwarder);
  return forwarder;
}

/**
 * Sends SIGTERM once `phase` shows in the output and returns how long the process took to end. It ends with code
 * 0, or by the signal itself when a librdkafka request was under way (see the connection attempt below).
 */
async function stopDuring(forwarder: ForwarderProcess, phase: RegExp): Promise<number> {
  await forwarder.waitForOutput(phase, 60_000);
  // Into the phase, not at its first line.
  await sleep(300);
  const sent = Date.now();
  const exit = await forwarder.stop('SIGTERM', 20_000);
  assert.ok(stoppedInStartUp(exit), forwarder.output);
  return Date.now() - sent;
}

/** A topic of `count` small messages that are no stored stream sets, as a data topic is. */
async function busyTopic(count: number): Promise<string> {
  const topic = uniqueTopic('busy');
  await createTopics(world.kafkaConfig, [topic]);
  const messages = Array.from({ length: count }, (_, index) => ({ value: Buffer.from(`value ${index}`) }));
  await produceMessages(world.kafkaConfig, topic, messages);
  return topic;
}

describe('forwarder-launch: a stop asked for during start-up', { timeout: 240_000 }, () => {
  it('ends the process within 2 s while it connects to an unreachable Kafka (SIGTERM, SIGINT)', async () => {
    // In a connection attempt (librdkafka waits 10 s for an answer, which nothing can cut short, so the process
    // ends by the signal itself), and in the pause between attempts (exit code 0).
    for (const [phase, signal, ending] of [
      [/Connect to ipv4#127\.0\.0\.1:\d+ failed/, 'SIGTERM', { code: null, signal: 'SIGTERM' }],
      [/could not connect \(attempt 1\)/, 'SIGINT', { code: 0, signal: null }],
    ] as const) {
      const nowhere = `127.0.0.1:${await freePort()}`;
      const forwarder = start([
        '--config-topic',
        `${nowhere}/commands`,
        '--status-topic',
        `${nowhere}/status`,
        '--output-broker',
        nowhere,
      ]);
      await forwarder.waitForOutput(phase, 60_000);
      await sleep(300);
      const sent = Date.now();
      const exit = await forwarder.stop(signal, 20_000);
      const ms = Date.now() - sent;
      assert.deepEqual(exit, ending, forwarder.output);
      assert.ok(ms < STOP_WITHIN_MS, `${signal} took ${ms} ms`);
      assert.match(forwarder.output, new RegExp(`Received ${signal}: stopping`));
      assert.match(forwarder.output, /INFO Forwarder stopped/);
    }
  });

  it('ends the process within 2 s while it waits for a missing storage topic or config topic', async () => {
    for (const missing of ['storage', 'config'] as const) {
      const absent = uniqueTopic(`absent_${missing}`);
      const forwarder = start(
        world
          .standardArguments()
          .map((arg) => (arg === world.uri(world.topics[missing]) ? world.uri(absent) : arg)),
      );
      const ms = await stopDuring(forwarder, new RegExp(`${absent} has no partitions`));
      assert.ok(ms < STOP_WITHIN_MS, `waiting for the ${missing} topic: SIGTERM took ${ms} ms`);
    }
  });

  it('ends the process within 2 s while it restores from a busy topic', async () => {
    const busy = await busyTopic(3 * MAX_NON_STORED_MESSAGES);
    const forwarder = start(
      world
        .standardArguments()
        .map((arg) => (arg === world.uri(world.topics.storage) ? world.uri(busy) : arg)),
    );
    await forwarder.waitForOutput(/Restoring the stream set from storage topic/, 60_000);
    const sent = Date.now();
    const exit = await forwarder.stop('SIGTERM', 20_000);
    const ms = Date.now() - sent;
    // Restore may have given up on the topic (exit 2) before the signal came: either way, at once.
    assert.ok(exit.code === 0 || exit.code === 2 || exit.signal === 'SIGTERM', forwarder.output);
    assert.ok(ms < STOP_WITHIN_MS, `SIGTERM took ${ms} ms`);
  });
});

describe('forwarder-launch: a storage topic that is no storage topic', { timeout: 120_000 }, () => {
  it('ends start-up with exit code 2 and one clear error, reading in batches', async () => {
    const total = 9_865;
    const busy = await busyTopic(total);
    const forwarder = start(
      world
        .standardArguments()
        .map((arg) => (arg === world.uri(world.topics.storage) ? world.uri(busy) : arg)),
    );
    const began = Date.now();
    const exit = await forwarder.exit(60_000);
    const seconds = (Date.now() - began) / 1000;
    assert.equal(exit.code, 2, forwarder.output);
    const errors = forwarder.output.split('\n').filter((line) => / ERROR /.test(line));
    assert.deepEqual(
      errors.map((line) => line.replace(/^\S+ ERROR /, '')),
      [
        `Fatal error: storage topic ${busy}: none of its newest ${MAX_NON_STORED_MESSAGES} messages is a ` +
          `stored stream set (offsets ${total - MAX_NON_STORED_MESSAGES} to ${total - 1} of 0 to ${total - 1}); ` +
          "is it the right topic? A storage topic holds only the forwarder's saved stream sets",
      ],
    );
    assert.doesNotMatch(forwarder.output, /\n\s+at /, 'no stack trace');
    const skipping = forwarder.output.match(/Skipping message at offset \d+ of storage topic/g) ?? [];
    assert.equal(skipping.length, 20, 'the first 20 skipped messages listed');
    assert.match(forwarder.output, /Skipped 980 more messages of storage topic .* \(not listed\)/);
    assert.doesNotMatch(forwarder.output, /Listening for commands/);
    assert.ok(seconds < 30, `${seconds} s to give up`);
  });
});

describe('forwarder-launch: SIGHUP', { timeout: 120_000 }, () => {
  it('reopens the log file when deploy/forwarder.logrotate rotates it, and keeps running', async () => {
    const log = join(dir, 'forwarder.log');
    const forwarder = start(world.standardArguments(['--skip-retrieval', '--log-file', log]));
    const deadline = Date.now() + 60_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('Listening for commands'))) {
      assert.ok(Date.now() < deadline, 'the forwarder did not start');
      await sleep(100);
    }
    // The shipped file, for this test's directory, user and process instead of the service's.
    const { username } = userInfo();
    const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();
    const config = join(dir, 'logrotate.conf');
    writeFileSync(
      config,
      readFileSync(join(repoRoot, 'deploy', 'forwarder.logrotate'), 'utf8')
        .replaceAll('/var/log/forwarder/', `${dir}/`)
        .replaceAll('forwarder forwarder', `${username} ${group}`)
        .replace(/systemctl reload forwarder\.service/, `kill -HUP ${forwarder.child.pid}`),
    );
    const rotate = spawnSync('logrotate', ['--force', '--state', join(dir, 'logrotate.state'), config], {
      encoding: 'utf8',
    });
    assert.equal(rotate.status, 0, `logrotate: ${rotate.stderr}`);
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('reopened the log file'))) {
      assert.equal(forwarder.child.exitCode, null, `exited on SIGHUP:\n${forwarder.output}`);
      assert.ok(Date.now() < deadline, 'no new log file');
      await sleep(100);
    }
    assert.equal((await forwarder.stop('SIGTERM')).code, 0);
    const rotated = readFileSync(`${log}.1`, 'utf8');
    const current = readFileSync(log, 'utf8');
    assert.match(rotated, /Listening for commands/);
    assert.doesNotMatch(rotated, /Forwarder stopped/);
    assert.match(current, /^\S+ INFO Received SIGHUP: reopened the log file\n/);
    assert.match(current, /INFO Forwarder stopped\n$/);
  });

  it('logs and carries on when logging to stderr', async () => {
    const forwarder = start(world.standardArguments(['--skip-retrieval']));
    await forwarder.waitForOutput(/Listening for commands/, 60_000);
    forwarder.child.kill('SIGHUP');
    await forwarder.waitForOutput(/Received SIGHUP: logging to stderr, no log file to reopen/);
    assert.equal((await forwarder.stop('SIGTERM')).code, 0);
  });
});
