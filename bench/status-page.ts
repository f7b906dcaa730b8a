/**
 * The status page in headless Chromium with many streams (the test IOC's records, a rejected string PV, a PV
 * nobody serves, the rest fake), each count a round of its own, the first the baseline of the ratios: what the
 * page and each refresh weigh, how long the browser takes to draw it the first time and to refresh it (main-thread
 * time from Chromium's own metrics), how fast the filter answers, and how soon the IOC's streams are on top as
 * disconnected once the IOC is killed. With --screenshots DIR it saves the last round's page (after the kill, and
 * with the problems chosen) there.
 *
 * Run: npx tsx bench/status-page.ts [--streams 1000,10000] [--screenshots docs]
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { REFRESH_MS } from '../src/observability/status-page-script.js';
import { openChromium, shownRows } from '../test/integration/operability/chromium.js';
import {
  addCommands,
  pageStreamSet,
  untilShown,
  waitForShown,
} from '../test/integration/operability/status-page-world.js';
import { ForwarderProcess } from '../test/support/forwarder.js';
import { TestIoc } from '../test/support/ioc.js';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import { clientConfig, createTopics, produceMessages, uniqueTopic } from '../test/support/kafka.js';
import { freePort } from '../test/support/ports.js';
import { fixed, loadAverage, progress, thousands } from './format.js';

const { values } = parseArgs({
  options: { streams: { type: 'string', default: '1000,10000' }, screenshots: { type: 'string' } },
});
const counts = (values.streams ?? '').split(',').map(Number);
if (counts.some((count) => !Number.isInteger(count) || count < 10)) {
  console.error('usage: bench/status-page.ts [--streams N,N,...] [--screenshots DIR]');
  process.exit(2);
}

/** Refreshes over which the cost of one is averaged. */
const REFRESHES = 5;

interface Round {
  readonly streams: number;
  readonly pageBytes: number;
  readonly statusRawBytes: number;
  readonly statusGzipBytes: number;
  /** The forwarder's answer to /status.json, compressed: median of 5. */
  readonly statusMs: number;
  readonly firstDrawMs: number;
  /** Chromium main-thread time (script, style, layout) of the first draw and of one refresh. */
  readonly firstMainThreadMs: number;
  readonly refreshMainThreadMs: number;
  readonly jsHeapMb: number;
  readonly filterMs: number;
  readonly killToTopMs: number;
}

/** Chromium's own cumulative figures of a page: main-thread time (tasks) in ms, JS heap in MB. */
async function chromiumFigures(
  page: Page,
): Promise<() => Promise<{ mainThreadMs: number; jsHeapMb: number }>> {
  const session = await page.context().newCDPSession(page);
  await session.send('Performance.enable');
  return async () => {
    const { metrics } = await session.send('Performance.getMetrics');
    const value = (name: string): number => metrics.find((metric) => metric.name === name)?.value ?? 0;
    return { mainThreadMs: value('TaskDuration') * 1000, jsHeapMb: value('JSHeapUsedSize') / 1e6 };
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

const median = (samples: number[]): number =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? NaN;

async function round(
  brokerInfo: TestKafkaBroker['info'],
  ioc: TestIoc,
  count: number,
  screenshots?: string,
): Promise<Round> {
  const config = clientConfig(brokerInfo, { listener: 'PLAINTEXT' });
  const topics = {
    config: uniqueTopic('page-config'),
    status: uniqueTopic('page-status'),
    data: uniqueTopic('page-data'),
  };
  await createTopics(config, Object.values(topics));
  const address = brokerInfo.listeners.PLAINTEXT;
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  const forwarder = ForwarderProcess.start(
    [
      '--config-topic',
      `${address}/${topics.config}`,
      '--status-topic',
      `${address}/${topics.status}`,
      '--output-broker',
      address,
      '--http-address',
      `127.0.0.1:${httpPort}`,
      '--fake-pv-period',
      '1000',
    ],
    ioc.clientEnv,
  );
  const { browser, page } = await openChromium({ width: 1600, height: 900 });
  try {
    await forwarder.waitForOutput(/Listening for commands/, 60_000);
    const streams = pageStreamSet({ topic: topics.data, pv: (record) => ioc.pv(record) }, count - 7);
    for (const command of addCommands(streams.all)) {
      await produceMessages(config, topics.config, [{ value: Buffer.from(command) }]);
    }
    // Every stream added and connected, as far as it ever will be.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const document = (await (await fetch(`${base}/status.json`)).json()) as {
        streams: unknown[];
        problems: Record<string, number>;
      };
      if (document.streams.length === count && document.problems['never_connected'] === 1) break;
      if (Date.now() > deadline) throw new Error(`the forwarder did not list ${count} streams within 60 s`);
      await sleep(500);
    }
    const pageBytes = Buffer.byteLength(await (await fetch(`${base}/`)).text());
    const raw = Buffer.from(
      await (
        await fetch(`${base}/status.json`, { headers: { 'accept-encoding': 'identity' } })
      ).arrayBuffer(),
    );
    const statusMs: number[] = [];
    for (let i = 0; i < 5; i++)
      statusMs.push(await timed(() => fetch(`${base}/status.json`).then((reply) => reply.arrayBuffer())));

    // A page of the same origin first, so that the page's draw is measured in the same renderer.
    await page.goto(`${base}/healthz`);
    const figures = await chromiumFigures(page);
    const beforeDraw = await figures();
    const firstDrawMs = await timed(async () => {
      await page.goto(`${base}/`, { timeout: 60_000 });
      await waitForShown(page, count, count, 120_000);
    });
    const drawn = await figures();
    await sleep(REFRESHES * REFRESH_MS);
    const steady = await figures();
    const firstMainThreadMs = drawn.mainThreadMs - beforeDraw.mainThreadMs;
    const refreshMainThreadMs = (steady.mainThreadMs - drawn.mainThreadMs) / REFRESHES;
    const heap = steady.jsHeapMb;

    const filterMs = await timed(async () => {
      await page.fill('#filter', 'FAKE:PAGE:123');
      await waitForShown(page, count >= 1240 ? 11 : 1, count);
    });
    await page.fill('#filter', '');
    await waitForShown(page, count, count);

    const iocPvs = [...streams.ioc, streams.rejecting];
    await ioc.kill();
    const killToTopMs = await timed(() =>
      untilShown(
        page,
        (rows) =>
          rows
            .slice(0, iocPvs.length)
            .every((row) => iocPvs.includes(row[0] ?? '') && row[1] === 'disconnected'),
        60_000,
        iocPvs.length,
      ),
    );
    if (screenshots !== undefined) {
      await page.screenshot({ path: join(screenshots, 'status-page.png') });
      await page.selectOption('#state', 'problem');
      await waitForShown(page, iocPvs.length + 1, count);
      await page.screenshot({ path: join(screenshots, 'status-page-problems.png') });
      progress(`screenshots in ${screenshots}: ${(await shownRows(page)).length} rows with a problem`);
    }
    return {
      streams: count,
      pageBytes,
      statusRawBytes: raw.length,
      statusGzipBytes: gzipSync(raw, { level: 1 }).length,
      statusMs: median(statusMs),
      firstDrawMs,
      firstMainThreadMs,
      refreshMainThreadMs,
      jsHeapMb: heap,
      filterMs,
      killToTopMs,
    };
  } finally {
    await browser.close();
    await forwarder.stop('SIGTERM');
    await ioc.start();
  }
}

progress(`load average ${loadAverage()}; starting a Kafka broker and the test IOC`);
const broker = await TestKafkaBroker.start();
const ioc = await TestIoc.start();
const rounds: Round[] = [];
try {
  for (const [index, count] of counts.entries()) {
    progress(`round of ${thousands(count)} streams`);
    rounds.push(
      await round(broker.info, ioc, count, index === counts.length - 1 ? values.screenshots : undefined),
    );
  }
} finally {
  await ioc.stop();
  await broker.destroy();
}

const kb = (bytes: number): string => `${fixed(bytes / 1024)} kB`;
const baseline = rounds[0] as Round;
const rows: [string, (each: Round) => string, (each: Round) => number][] = [
  ['page (HTML, script, style)', (each) => kb(each.pageBytes), (each) => each.pageBytes],
  ['status.json per refresh, raw', (each) => kb(each.statusRawBytes), (each) => each.statusRawBytes],
  [
    'status.json per refresh, gzip (sent)',
    (each) => kb(each.statusGzipBytes),
    (each) => each.statusGzipBytes,
  ],
  ['forwarder answers status.json (median)', (each) => `${fixed(each.statusMs)} ms`, (each) => each.statusMs],
  [
    'first draw, navigation to every row',
    (each) => `${thousands(each.firstDrawMs)} ms`,
    (each) => each.firstDrawMs,
  ],
  [
    '  of it Chromium main thread',
    (each) => `${thousands(each.firstMainThreadMs)} ms`,
    (each) => each.firstMainThreadMs,
  ],
  [
    `one refresh, main thread (mean of ${REFRESHES})`,
    (each) => `${thousands(each.refreshMainThreadMs)} ms`,
    (each) => each.refreshMainThreadMs,
  ],
  ['JS heap', (each) => `${fixed(each.jsHeapMb)} MB`, (each) => each.jsHeapMb],
  ['filter typed to rows shown', (each) => `${thousands(each.filterMs)} ms`, (each) => each.filterMs],
  [
    'IOC killed to its streams on top',
    (each) => `${thousands(each.killToTopMs)} ms`,
    (each) => each.killToTopMs,
  ],
];
console.log(
  `Status page in headless Chromium, refresh every ${REFRESH_MS / 1000} s; load average ${loadAverage()}`,
);
console.log(
  [
    'figure'.padEnd(44),
    ...rounds.map((each) => `${thousands(each.streams)} streams`.padStart(16)),
    'ratio'.padStart(8),
  ].join(''),
);
for (const [label, text, value] of rows) {
  const last = rounds.at(-1) as Round;
  console.log(
    [
      label.padEnd(44),
      ...rounds.map((each) => text(each).padStart(16)),
      `${fixed(value(last) / value(baseline))}x`.padStart(8),
    ].join(''),
  );
}
