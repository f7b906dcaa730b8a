/**
 * What the status page test and benchmark (bench/status-page.ts) share: the stream set (the test IOC's records
 * over CA, a string PV on f144 that is rejected, a PV nobody serves, a PV name that looks like markup, and many
 * fake streams), the commands that add it, and reading what the page shows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { Protocol, serialiseFc00, UpdateType, type Fc00Stream } from '../../../src/schemas/index.js';
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

/** Where the streams go, and the test IOC's PV of a record. */
export interface StreamTargets {
  readonly topic: string;
  readonly pv: (record: string) => string;
}

export function pageStreamSet({ topic, pv }: StreamTargets, fakeStreams: number): PageStreamSet {
  const stream = (channel: string, protocol: Protocol): Fc00Stream => ({
    channel,
    protocol,
    schema: 'f144',
    topic,
    periodic: 0,
  });
  const ioc = ['tick', 'sine', 'ai', 'mbbi'].map(pv);
  const rejecting = pv('stringin');
  const missing = pv('no-such-record');
  const markup = 'FAKE:<b>bold</b>&"quoted"';
  const fakes = Array.from({ length: fakeStreams }, (_, index) => `FAKE:PAGE:${index}`);
  return {
    all: [
      ...ioc.map((name) => stream(name, Protocol.CA)),
      stream(rejecting, Protocol.CA),
      stream(missing, Protocol.CA),
      stream(markup, Protocol.FAKE),
      ...fakes.map((name) => stream(name, Protocol.FAKE)),
    ],
    ioc,
    rejecting,
    missing,
    markup,
  };
}

/** ADD commands of every stream, a few thousand per message. */
export function addCommands(streams: readonly Fc00Stream[]): Uint8Array[] {
  const commands: Uint8Array[] = [];
  for (let start = 0; start < streams.length; start += STREAMS_PER_COMMAND) {
    const part = streams.slice(start, start + STREAMS_PER_COMMAND);
    commands.push(serialiseFc00({ configChange: UpdateType.ADD, streams: part }));
  }
  return commands;
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

/** Waits until the rows the page shows (the first `limit` of them, when given) satisfy `predicate`. */
export async function untilShown(
  page: Page,
  predicate: (rows: string[][]) => boolean,
  timeoutMs = 30_000,
  limit = Infinity,
): Promise<void> {
  await until(async () => predicate(await shownRows(page, limit)), timeoutMs, 'the rows expected');
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
