/**
 * What the status page test and benchmark share: the stream set (the test IOC's records over CA, a string PV on
 * f144 that is rejected, a PV nobody serves, a PV name that looks like markup, and many fake streams), adding it,
 * and reading what the page shows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { Protocol, serialiseFc00, UpdateType, type Fc00Stream } from '../../../src/schemas/index.js';
import type { ForwarderWorld } from '../../support/forwarder-world.js';
import { shownRows } from './chromium.js';

/** fc00 commands stay well below Kafka's default limit of 1 MB per message. */
const STREAMS_PER_COMMAND = 2_000;

export interface PageStreamSet {
  readonly all: readonly Fc00Stream[];
  /** The IOC's PVs, forwarded over CA. */
  readonly ioc: readonly string[];
  readonly rejecting: string;
  readonly missing: string;
  readonly markup: string;
}

export function pageStreamSet(
  world: ForwarderWorld,
  fakeStreams: number,
): PageStreamSet & { all: Fc00Stream[] } {
  const stream = (channel: string, protocol: Protocol): Fc00Stream => ({
    channel,
    protocol,
    schema: 'f144',
    topic: world.topics.data,
    periodic: 0,
  });
  const ioc = ['tick', 'sine', 'ai', 'mbbi'].map((record) => world.ioc.pv(record));
  const rejecting = world.ioc.pv('stringin');
  const missing = world.ioc.pv('no-such-record');
  const markup = 'FAKE:<b>bold</b>&"quoted"';
  const fakes = Array.from({ length: fakeStreams }, (_, index) => `FAKE:PAGE:${index}`);
  return {
    all: [
      ...ioc.map((pv) => stream(pv, Protocol.CA)),
      stream(rejecting, Protocol.CA),
      stream(missing, Protocol.CA),
      stream(markup, Protocol.FAKE),
      ...fakes.map((pv) => stream(pv, Protocol.FAKE)),
    ],
    ioc,
    rejecting,
    missing,
    markup,
  };
}

export async function addStreams(world: ForwarderWorld, streams: readonly Fc00Stream[]): Promise<void> {
  for (let start = 0; start < streams.length; start += STREAMS_PER_COMMAND) {
    await world.sendCommand(
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: streams.slice(start, start + STREAMS_PER_COMMAND),
      }),
    );
  }
}

/** How many streams the page says it shows. */
export async function shownCount(page: Page): Promise<number> {
  return Number(/^(\d+) of/.exec((await page.textContent('#shown')) ?? '')?.[1] ?? NaN);
}

/** Waits until the page shows `shown` of `total` streams; resolves with `shown`. */
export async function waitForShown(
  page: Page,
  shown: number,
  total: number,
  timeoutMs = 30_000,
): Promise<number> {
  const text = `${shown} of ${total} streams`;
  await until(async () => (await page.textContent('#shown')) === text, timeoutMs, `the page showing ${text}`);
  return shown;
}

/** Waits until the rows the page shows satisfy `predicate`. */
export async function untilShown(
  page: Page,
  predicate: (rows: string[][]) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  await until(async () => predicate(await shownRows(page)), timeoutMs, 'the rows expected');
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
