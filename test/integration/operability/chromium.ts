import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's `chromium` package (scripts/setup.sh installs it); playwright-core drives it, it downloads no browser. */
export const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) =>
  existsSync(path),
);

export interface RenderedPage {
  /** The text of each cell of each table body row, as the browser renders it. */
  readonly rows: string[][];
  /** A PNG screenshot of the page at 1280x720. */
  readonly screenshot: Buffer;
}

/** Headless Chromium with one page of `viewport`; close the browser when done. */
export async function openChromium(
  viewport = { width: 1280, height: 720 },
): Promise<{ browser: Browser; page: Page }> {
  if (chromiumPath === undefined) throw new Error('chromium is not installed (Debian package chromium)');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    // Root in a container: no sandbox. No background traffic: the machine reaches only loopback.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    return { browser, page: await browser.newPage({ viewport }) };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/**
 * The text of each cell of each row of streams the page shows, in order (rows the filter hides are not there); the
 * first `limit` rows only, when given (reading 10,000 rows takes a while).
 */
export function shownRows(page: Page, limit = Infinity): Promise<string[][]> {
  return page.$$eval(
    '#rows .row',
    (rows, count) =>
      rows.slice(0, count).map((row) => [...row.children].map((cell) => (cell.textContent ?? '').trim())),
    limit === Infinity ? Number.MAX_SAFE_INTEGER : limit,
  );
}

/** Loads the status page at `url` in headless Chromium, waits until it shows `streams` streams, and returns them. */
export async function renderInChromium(url: string, streams: number): Promise<RenderedPage> {
  const { browser, page } = await openChromium();
  try {
    await page.goto(url, { timeout: 30_000 });
    await page.waitForSelector(`#shown:text-matches("of ${streams} streams$")`, { timeout: 30_000 });
    return { rows: await shownRows(page), screenshot: await page.screenshot() };
  } finally {
    await browser.close();
  }
}
