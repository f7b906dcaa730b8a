import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

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

/** Loads `url` in headless Chromium and returns the rendered status table and a screenshot. */
export async function renderInChromium(url: string): Promise<RenderedPage> {
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
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(url, { timeout: 30_000 });
    const rows = await page.$$eval('tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
    );
    return { rows, screenshot: await page.screenshot() };
  } finally {
    await browser.close();
  }
}
