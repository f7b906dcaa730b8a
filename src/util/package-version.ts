import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's own package.json: the nearest one above this module (from src/ or from dist/src/). */
function findPackageJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return join(dir, 'package.json');
}

/** The package version, read once from the package.json shipped with the package. */
export const packageVersion: string = (
  JSON.parse(readFileSync(findPackageJson(), 'utf8')) as { version: string }
).version;
