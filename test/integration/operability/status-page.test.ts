/**
 * The status page in headless Chromium with a running forwarder and 10,000 streams (the test IOC's, the rest fake):
 * problems on top, what the page and a refresh weigh, the filter and state choice, sorting by a column, and,
 * without reloading, the IOC's streams moving to the top as disconnected within one refresh once the IOC is
 * killed. bench/status-page.ts measures the same page's weight and the browser's time to draw it.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REFRESH_MS } from '../../../src/observability/status-page-script.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { freePort } from '../../support/ports.js';
import { openChromium, shownRows } from './chromium.js';
import {
  addCommands,
  type PageStreamSet,
  pageStreamSet,
  shownCount,
  untilShown,
  waitForShown,
} from './status-page-world.js';

const world = ForwarderWorld.setUp();
/** With the 7 other streams, 10,000. */
const FAKE_STREAMS = 9_993;
let browser: Browser;
let httpPort: number;
let page: Page;
let streams: PageStreamSet;

describe('the status page in Chromium', { timeout: 180_000 }, () => {
  before(async () => {
    httpPort = await freePort();
    await world.startForwarder(
      world.standardArguments([
        '--skip-retrieval',
        '--http-address',
        `127.0.0.1:${httpPort}`,
        '--fake-pv-period',
        '1000',
      ]),
    );
    streams = pageStreamSet({ topic: world.topics.data, pv: (record) => world.ioc.pv(record) }, FAKE_STREAMS);
    for (const command of addCommands(streams.all)) await world.sendCommand(command);
    ({ browser, page } = await openChromium({ width: 1600, height: 900 }));
    await page.goto(`http://127.0.0.1:${httpPort}/`, { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
  });

  it('lists the problems first: never connected, then rejecting, then the rest', async () => {
    await waitForShown(page, streams.all.length, streams.all.length);
    // The string PV's first update comes once it connected.
    await untilShown(
      page,
      (rows) => rows.some((row) => row[0] === streams.rejecting && row[1] === 'rejecting'),
      30_000,
      10,
    );
    const rows = await shownRows(page);
    assert.deepEqual(
      rows.slice(0, 2).map((row) => [row[0], row[1]]),
      [
        [streams.missing, 'never connected'],
        [streams.rejecting, 'rejecting'],
      ],
    );
    assert.match(rows[1]?.[7] ?? '', /string/, 'the reason it is rejected');
    assert.ok(rows.slice(2).every((row) => row[1] === 'connected'));
    assert.equal(await page.textContent('#overall'), 'degraded');
    assert.match((await page.textContent('#summary')) ?? '', /1 never connected, 1 rejecting/);
    // A PV name that looks like markup is shown as text.
    assert.ok(rows.some((row) => row[0] === streams.markup));
  });

  it('weighs the same whatever the number of streams, and reads status.json compressed: a tenth of its size', async () => {
    const html = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
    assert.ok(Buffer.byteLength(html) < 32_000, `${Buffer.byteLength(html)} bytes of page`);
    assert.ok(!html.includes('FAKE:PAGE:'), 'no stream in the page itself');
    const raw = await fetch(`http://127.0.0.1:${httpPort}/status.json`, {
      headers: { 'accept-encoding': 'identity' },
    });
    const rawBytes = (await raw.arrayBuffer()).byteLength;
    const compressed = await new Promise<{ encoding: string | undefined; bytes: number }>(
      (resolveGet, rejectGet) =>
        get(
          `http://127.0.0.1:${httpPort}/status.json`,
          { headers: { 'accept-encoding': 'gzip' } },
          (reply) => {
            let bytes = 0;
            reply.on('data', (chunk: Buffer) => (bytes += chunk.length));
            reply.on('end', () => resolveGet({ encoding: reply.headers['content-encoding'], bytes }));
          },
        ).on('error', rejectGet),
    );
    assert.equal(raw.headers.get('content-encoding'), null);
    assert.equal(compressed.encoding, 'gzip');
    assert.ok(compressed.bytes * 8 < rawBytes, `${compressed.bytes} bytes compressed, ${rawBytes} raw`);
    assert.ok(compressed.bytes < 600_000, `${compressed.bytes} bytes per refresh at 10,000 streams`);
  });

  it('filters by words and by state, and keeps both in the address', async () => {
    await page.fill('#filter', 'FAKE:PAGE:19');
    // FAKE:PAGE:19, :190..:199 and :1900..:1999.
    assert.equal(await waitForShown(page, 111, streams.all.length), 111);
    assert.ok((await shownRows(page)).every((row) => row[0]?.includes('FAKE:PAGE:19')));
    await page.fill('#filter', '');
    await page.selectOption('#state', 'problem');
    assert.equal(await waitForShown(page, 2, streams.all.length), 2);
    assert.match(page.url(), /#state=problem$/);
    await page.selectOption('#state', '');
    await waitForShown(page, streams.all.length, streams.all.length);
  });

  it('sorts by a column, descending on a second click, and goes back to problems first on a third', async () => {
    const header = page.locator('[data-key="pv"]');
    await header.click();
    const ascending = (await shownRows(page)).map((row) => row[0] ?? '');
    assert.deepEqual(
      ascending,
      [...ascending].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    await header.click();
    const descending = (await shownRows(page)).map((row) => row[0] ?? '');
    assert.deepEqual(descending, [...ascending].reverse());
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    await header.click();
    assert.equal((await shownRows(page))[0]?.[0], streams.missing);
  });

  it('moves the IOC streams to the top as disconnected within one refresh of the IOC dying, without reloading', async () => {
    await page.evaluate('window.notReloaded = true');
    await world.ioc.kill();
    const killedAt = Date.now();
    // The CA client notices a killed server at once (the TCP connection closes).
    const iocPvs = [...streams.ioc, streams.rejecting];
    await untilShown(
      page,
      (rows) =>
        rows
          .slice(0, iocPvs.length)
          .every((row) => iocPvs.includes(row[0] ?? '') && row[1] === 'disconnected'),
      3 * REFRESH_MS + 5_000,
      iocPvs.length,
    );
    const seconds = (Date.now() - killedAt) / 1000;
    assert.ok(seconds <= (REFRESH_MS + 1_000) / 1000, `${seconds} s after the kill`);
    assert.equal(await page.evaluate('window.notReloaded'), true, 'the same page, not reloaded');
    const rows = await shownRows(page);
    assert.match(rows[0]?.[7] ?? '', /./, 'why it is disconnected');
    assert.match(rows[0]?.[6] ?? '', /^127\.0\.0\.1:\d+$/, 'the server it was connected to');
    assert.equal(rows[iocPvs.length]?.[0], streams.missing, 'then the PV never connected');
    assert.equal(await shownCount(page), streams.all.length);
  });
});
