import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's `chromium` package, when installed. */
export const chromiumPath: string | undefined = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path) => existsSync(path),
);

/**
 * Runs headless Chromium on `url` with extra switches (`--dump-dom`, `--screenshot=...`), in a throw-away
 * profile, and resolves with what it printed on stdout.
 */
export async function headlessChromium(
  url: string,
  switches: readonly string[],
  timeoutMs = 60_000,
): Promise<string> {
  if (chromiumPath === undefined) throw new Error('chromium is not installed');
  const profile = mkdtempSync(join(tmpdir(), 'ekf-chromium-'));
  try {
    const child = spawn(
      chromiumPath,
      [
        '--headless',
        // Tests run as root in containers, where Chromium's sandbox cannot start.
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        ...switches,
        url,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
    clearTimeout(timer);
    if (code !== 0) throw new Error(`chromium exited with ${code}: ${stderr.slice(-2000)}`);
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  '#39': "'",
  nbsp: ' ',
};

/** The text of each table body row's cells in a serialised DOM, entities decoded. */
export function tableRows(dom: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(dom)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
      (cell[1] ?? '')
        .replace(/<[^>]*>/g, '')
        .replace(/&(lt|gt|amp|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name] ?? '')
        .trim(),
    ),
  );
}
