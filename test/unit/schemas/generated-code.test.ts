/**
 * The committed code in src/schemas/generated is what scripts/generate-schemas.sh makes from schemas/*.fbs, so
 * the schemas and the code built on them cannot drift apart. Needs flatc 2.0.8 (Debian's flatbuffers-compiler);
 * skipped where it is not installed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const committed = join(root, 'src/schemas/generated');

function flatcVersion(): string | undefined {
  try {
    return execFileSync(process.env['FLATC'] ?? 'flatc', ['--version'], {
      encoding: 'utf8',
      timeout: 10_000,
    }).trim();
  } catch {
    return undefined;
  }
}

function files(directory: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.set(relative(directory, path), readFileSync(path, 'utf8'));
  }
  return found;
}

const version = flatcVersion();

describe(
  'generated code',
  { skip: version === 'flatc version 2.0.8' ? false : `needs flatc 2.0.8, found ${version ?? 'none'}` },
  () => {
    const scratch = mkdtempSync(join(tmpdir(), 'schemas-generated-'));
    after(() => rmSync(scratch, { recursive: true, force: true }));

    it('matches a fresh generation from the schemas', () => {
      execFileSync(join(root, 'scripts/generate-schemas.sh'), [scratch], {
        stdio: 'ignore',
        timeout: 60_000,
      });
      const fresh = files(scratch);
      const current = files(committed);
      assert.deepEqual([...current.keys()].sort(), [...fresh.keys()].sort());
      for (const [path, text] of fresh) assert.equal(current.get(path), text, path);
    });
  },
);
