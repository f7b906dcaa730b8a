/**
 * The disk spool (--spool-dir, docs/reliability.md "The disk spool") against a private broker that is stopped and
 * started, the test IOC's 10 Hz `tick` counter over CA and over PVA, and forwarders that are stopped and killed:
 * - an outage of several times a lowered message.timeout.ms: with a spool every value arrives once and in order,
 *   whether librdkafka's queue holds the outage or the spool does; without one (the control), values expire;
 * - SIGTERM while Kafka is away: started again once Kafka is back, every value made before the signal arrives, once;
 * - SIGKILL while Kafka is away: the same, but for the last moment before the kill (measured);
 * - a spool with a torn tail and a corrupted record: opened, both cut out, counted and logged; the rest replayed;
 * - a full spool: the newest messages dropped, counted and logged; the forwarder runs on with flat memory.
 */
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import type { ForwarderProcess } from '../../support/forwarder.js';
import { freePort } from '../../support/ports.js';
import type { ReadMessage } from '../../support/topic-reader.js';
import { httpGet } from '../operability/scrape.js';
import { countLines, coverage, type Coverage, ReliabilityWorld, rssMiB, tickValues } from './world.js';

const world = ReliabilityWorld.setUp();
const TIMEOUT_MS = 3_000;
/** Several times TIMEOUT_MS. */
const OUTAGE_MS = 15_000;
/** librdkafka's queue for the runs where the spool, not librdkafka, holds the outage. */
const SMALL_QUEUE = ['--kafka-config', 'queue.buffering.max.messages=20'];

const spoolDirs: string[] = [];
after(() => {
  for (const dir of spoolDirs) rmSync(dir, { recursive: true, force: true });
});

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ekf-spool-'));
  spoolDirs.push(dir);
  return dir;
}

/** A forwarder of `tick` over CA to `ca` and over PVA to `pva`, with its own config topic. */
interface TickForwarder {
  readonly topics: { config: string; status: string; ca: string; pva: string };
  readonly extra: readonly string[];
  process: ForwarderProcess;
}

async function tickForwarder(name: string, extra: readonly string[]): Promise<TickForwarder> {
  const topics: Record<string, string> = await world.topics(
    `config-${name}`,
    `status-${name}`,
    `ca-${name}`,
    `pva-${name}`,
  );
  const named = {
    config: topics[`config-${name}`] as string,
    status: topics[`status-${name}`] as string,
    ca: topics[`ca-${name}`] as string,
    pva: topics[`pva-${name}`] as string,
  };
  const process = await world.startForwarder({ config: named.config, status: named.status }, extra);
  const tick = world.ioc.pv('tick');
  await world.send(named.config, [
    serialiseFc00({
      configChange: UpdateType.ADD,
      streams: [
        { channel: tick, schema: 'f144', topic: named.ca, protocol: Protocol.CA, periodic: 0 },
        { channel: tick, schema: 'f144', topic: named.pva, protocol: Protocol.PVA, periodic: 0 },
      ],
    }),
  ]);
  return { topics: named, extra, process };
}

/** Starts a forwarder again with what it was started with; it restores nothing: the streams are sent again. */
async function restart(forwarder: TickForwarder): Promise<void> {
  forwarder.process = await world.startForwarder(
    { config: forwarder.topics.config, status: forwarder.topics.status },
    forwarder.extra,
  );
  const tick = world.ioc.pv('tick');
  await world.send(forwarder.topics.config, [
    serialiseFc00({
      configChange: UpdateType.ADD,
      streams: [
        { channel: tick, schema: 'f144', topic: forwarder.topics.ca, protocol: Protocol.CA, periodic: 0 },
        { channel: tick, schema: 'f144', topic: forwarder.topics.pva, protocol: Protocol.PVA, periodic: 0 },
      ],
    }),
  ]);
}

async function waitForTicks(forwarder: TickForwarder, count: number): Promise<void> {
  const reader = await world.reader([forwarder.topics.ca, forwarder.topics.pva]);
  const tick = world.ioc.pv('tick');
  for (const topic of [forwarder.topics.ca, forwarder.topics.pva]) {
    await reader.waitFor(
      topic,
      (messages) => tickValues(messages, tick).length >= count,
      60_000,
      `${count} ticks`,
    );
  }
}

const DRAINED = /Spool: every waiting message handed to Kafka/;

/** Waits until the forwarder prints `pattern` after what it had printed when `mark` was taken. */
async function waitForNew(
  process: ForwarderProcess,
  mark: number,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(process.output.slice(mark))) {
    if (Date.now() > deadline)
      throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${process.output.slice(-3000)}`);
    await sleep(100);
  }
}

/** The tick values on a topic, with how many came out of order. */
function ticksOn(messages: readonly ReadMessage[]): Coverage & { outOfOrder: number; values: number[] } {
  const values = tickValues(messages, world.ioc.pv('tick'));
  const outOfOrder = values.filter((value, i) => i > 0 && value <= (values[i - 1] as number)).length;
  return { ...coverage(values), outOfOrder, values };
}

/** The tick values whose EPICS time is before `ms`, as on the topic. */
function ticksBefore(messages: readonly ReadMessage[], ms: number): number[] {
  return tickValues(
    messages.filter((message) => message.timestampMs < ms),
    world.ioc.pv('tick'),
  );
}

describe('forwarder: the disk spool', { timeout: 600_000 }, () => {
  it('keeps every value through an outage of several message timeouts; the control loses the expired', async () => {
    const inQueue = await tickForwarder('queue', ['--spool-dir', spoolDir()]);
    const inSpool = await tickForwarder('spool', ['--spool-dir', spoolDir(), ...SMALL_QUEUE]);
    const control = await tickForwarder('control', ['--kafka-config', `message.timeout.ms=${TIMEOUT_MS}`]);
    const all = [inQueue, inSpool, control];
    for (const forwarder of all) await waitForTicks(forwarder, 20);
    await world.broker.stop();
    const mark = inSpool.process.output.length;
    await sleep(OUTAGE_MS);
    await world.broker.start();
    // The spool hands its waiting messages over, then live ones follow.
    await waitForNew(inSpool.process, mark, DRAINED);
    await sleep(5_000);
    for (const forwarder of all) {
      assert.deepEqual(await forwarder.process.stop('SIGTERM'), { code: 0, signal: null });
    }
    const report: Record<string, unknown> = {};
    for (const [name, forwarder] of [
      ['queue', inQueue],
      ['spool', inSpool],
    ] as const) {
      for (const protocol of ['ca', 'pva'] as const) {
        const ticks = ticksOn(await world.readAll(forwarder.topics[protocol]));
        report[`${name} ${protocol}`] = { first: ticks.first, last: ticks.last, gaps: ticks.gaps.length };
        assert.ok(
          ticks.last - ticks.first >= (OUTAGE_MS / 100) * 0.9,
          `${name} ${protocol}: the run spans the outage`,
        );
        assert.deepEqual(ticks.gaps, [], `${name} ${protocol}: no value lost`);
        assert.equal(ticks.duplicates, 0, `${name} ${protocol}: no value twice`);
        assert.equal(ticks.outOfOrder, 0, `${name} ${protocol}: in order`);
      }
    }
    assert.ok(
      countLines(inSpool.process.output, /Spool: Kafka's queue is full; messages wait in the spool/) >= 1,
      'the spool held the outage',
    );
    const controlTicks = ticksOn(await world.readAll(control.topics.ca));
    report['control ca'] = { missing: controlTicks.missing, gaps: controlTicks.gaps.length };
    assert.ok(
      controlTicks.missing >= ((OUTAGE_MS - TIMEOUT_MS) / 100) * 0.5,
      'without a spool, values expired',
    );
    console.log(`spool outage figures: ${JSON.stringify(report)}`);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`keeps what was made before a ${signal} while Kafka is away, and sends it once Kafka is back`, async () => {
      const dir = spoolDir();
      const forwarder = await tickForwarder(signal.toLowerCase(), ['--spool-dir', dir, ...SMALL_QUEUE]);
      await waitForTicks(forwarder, 20);
      await world.broker.stop();
      await sleep(8_000);
      const signalledAt = Date.now();
      const stopped = await forwarder.process.stop(signal);
      const stopMs = Date.now() - signalledAt;
      if (signal === 'SIGTERM') {
        assert.deepEqual(stopped, { code: 0, signal: null });
        assert.ok(stopMs < 5_000, `a stop while Kafka is away takes ${stopMs} ms`);
        assert.match(forwarder.process.output, /messages \(\d+ bytes\) wait in the spool for the next start/);
      }
      await world.broker.start();
      await restart(forwarder);
      await forwarder.process.waitForOutput(DRAINED, 60_000);
      // What was handed to Kafka before the stop without an acknowledgement was looked for there first.
      assert.match(forwarder.process.output, /Spool: Kafka had \d+ of them; sending the other \d+ again/);
      await sleep(3_000);
      assert.deepEqual(await forwarder.process.stop('SIGTERM'), { code: 0, signal: null });
      const report: Record<string, unknown> = { stopMs };
      for (const protocol of ['ca', 'pva'] as const) {
        const messages = await world.readAll(forwarder.topics[protocol]);
        const all = ticksOn(messages);
        // What the IOC made while no forwarder ran was never seen: only values up to the signal count.
        const before = coverage(ticksBefore(messages, signalledAt));
        const lastBefore = before.last;
        const madeBefore = lastBefore - before.first + 1;
        report[protocol] = {
          madeBefore,
          missingBefore: before.missing,
          gapsBefore: before.gaps,
          duplicates: all.duplicates,
          duplicated: all.values.filter((value, i) => all.values.indexOf(value) !== i),
          lastBefore,
          firstAfter: all.values.find((value) => value > lastBefore),
        };
        console.log(`spool ${signal} ${protocol}: ${JSON.stringify(report[protocol])}`);
        assert.equal(all.duplicates, 0, `${protocol}: no value twice`);
        assert.equal(all.outOfOrder, 0, `${protocol}: in order`);
        if (signal === 'SIGTERM')
          assert.deepEqual(before.gaps, [], `${protocol}: nothing made before the stop lost`);
        else assert.ok(before.missing <= 2, `${protocol}: at most the last moment before the kill lost`);
        // The values right up to the signal reached the spool (10 Hz, plus time to get through the forwarder).
        const latest = ticksBefore(messages, signalledAt).at(-1) as number;
        const last = messages.filter((m) => m.timestampMs < signalledAt).at(-1) as ReadMessage;
        // 10 Hz: every full 100 ms between the newest value kept and the signal is a value made and not kept.
        const newestKeptMs = signalledAt - last.timestampMs;
        report[`${protocol} newest kept, ms before the signal`] = newestKeptMs;
        report[`${protocol} made last and not kept`] = Math.floor(newestKeptMs / 100);
        assert.ok(
          signalledAt - last.timestampMs < 1_000,
          `${protocol}: values up to ${latest} just before the signal`,
        );
      }
      console.log(`spool ${signal} figures: ${JSON.stringify(report)}`);
    });
  }

  it('opens a spool with a torn tail and a corrupted record: cuts both out, counts and logs them, replays the rest', async () => {
    const dir = spoolDir();
    const httpPort = await freePort();
    const forwarder = await tickForwarder('damaged', [
      '--spool-dir',
      dir,
      ...SMALL_QUEUE,
      '--http-address',
      `127.0.0.1:${httpPort}`,
    ]);
    await waitForTicks(forwarder, 20);
    await world.broker.stop();
    await sleep(6_000);
    assert.deepEqual(await forwarder.process.stop('SIGTERM'), { code: 0, signal: null });
    const segments = readdirSync(dir)
      .filter((name) => name.endsWith('.spool'))
      .sort()
      .map((name) => join(dir, name))
      .filter((path) => statSync(path).size > 0);
    const last = segments.at(-1) as string;
    const middle = readFileSync(last);
    const at = Math.floor(middle.length / 2);
    middle[at] = (middle[at] as number) ^ 0xff;
    writeFileSync(last, middle);
    truncateSync(last, middle.length - 7);
    await world.broker.start();
    await restart(forwarder);
    await forwarder.process.waitForOutput(DRAINED, 60_000);
    assert.match(forwarder.process.output, /Spool: cut \d+ bytes of an unfinished write off the end/);
    assert.match(forwarder.process.output, /Spool: skipped 1 corrupted records/);
    const status = JSON.parse((await httpGet(`http://127.0.0.1:${httpPort}/status.json`)).body) as {
      spool: { tornBytes: number; corruptRecords: number; waiting: number };
    };
    assert.ok(status.spool.tornBytes > 0);
    assert.equal(status.spool.corruptRecords, 1);
    await sleep(2_000);
    assert.deepEqual(await forwarder.process.stop('SIGTERM'), { code: 0, signal: null });
    let missing = 0;
    for (const protocol of ['ca', 'pva'] as const) {
      const ticks = ticksOn(await world.readAll(forwarder.topics[protocol]));
      assert.equal(ticks.duplicates, 0);
      assert.equal(ticks.outOfOrder, 0);
      missing += ticks.gaps
        .filter(([from, to]) => to - from < 5)
        .reduce((sum, [from, to]) => sum + to - from + 1, 0);
    }
    assert.ok(missing <= 2, `only the damaged records are missing (${missing} values)`);
    console.log(`spool damaged figures: ${JSON.stringify({ ...status.spool, missing })}`);
  });

  it('drops the newest messages when the spool is full, counts and logs them, and keeps running with flat memory', async () => {
    const topics = await world.topics('config-full', 'status-full', 'data-full');
    const httpPort = await freePort();
    const forwarder = await world.startForwarder(
      { config: topics['config-full'], status: topics['status-full'] },
      [
        '--spool-dir',
        spoolDir(),
        '--spool-max-bytes',
        '256K',
        ...SMALL_QUEUE,
        '--fake-pv-period',
        '20',
        '--http-address',
        `127.0.0.1:${httpPort}`,
      ],
    );
    await world.send(topics['config-full'], [
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: Array.from({ length: 50 }, (_, i) => ({
          channel: `load:${i}`,
          schema: 'f144',
          topic: topics['data-full'],
          protocol: Protocol.FAKE,
          periodic: 0,
        })),
      }),
    ]);
    await sleep(3_000);
    await world.broker.stop();
    const mark = forwarder.output.length;
    const rss: number[] = [];
    for (let i = 0; i < 8; i++) {
      await sleep(2_000);
      rss.push(rssMiB(forwarder.child.pid as number));
    }
    const status = JSON.parse((await httpGet(`http://127.0.0.1:${httpPort}/status.json`)).body) as {
      spool: { bytes: number; maxBytes: number; dropped: number; waiting: number };
    };
    assert.ok(status.spool.dropped > 0, 'the newest were dropped');
    assert.ok(status.spool.bytes <= status.spool.maxBytes);
    assert.equal(forwarder.child.exitCode, null, 'the forwarder runs on');
    const dropLines = countLines(forwarder.output, /Spool full \(\d+ bytes\): dropping the newest messages/);
    assert.ok(dropLines >= 1 && dropLines <= 4, `logged at most once per 10 s (${dropLines} lines)`);
    const growth = Math.max(...rss.slice(rss.length / 2)) - (rss[1] ?? NaN);
    assert.ok(growth < 30, `memory flat while the spool is full (${growth.toFixed(1)} MiB)`);
    await world.broker.start();
    await waitForNew(forwarder, mark, DRAINED);
    assert.deepEqual(await forwarder.stop('SIGTERM'), { code: 0, signal: null });
    console.log(
      `spool full figures: ${JSON.stringify({ status: status.spool, rssMiB: rss.map(Math.round) })}`,
    );
  });
});
