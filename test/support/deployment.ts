/**
 * How deploy/forwarder.service runs the forwarder, read from the files themselves: the deploy test checks the unit
 * against the launcher's #! line, and the benchmark runs the forwarder the same way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const UNIT_FILE = join(repoRoot, 'deploy', 'forwarder.service');

/** The Node options on bin/forwarder-launch's #! line, as one string (undefined when there are none). */
export function launcherNodeOptions(): string | undefined {
  const shebang = readFileSync(join(repoRoot, 'bin', 'forwarder-launch'), 'utf8').split('\n')[0] ?? '';
  return /^#!\/usr\/bin\/env -S node (.+)$/.exec(shebang)?.[1];
}

/** What a unit file sets, key by key (the last value of a key that occurs more than once). */
export function unitSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) settings.set(match[1], match[2]);
  }
  return settings;
}

/** The variables the unit's Environment= line sets. */
export function unitEnvironment(): Record<string, string> {
  const line = unitSettings(readFileSync(UNIT_FILE, 'utf8')).get('Environment') ?? '';
  return Object.fromEntries(line.split(' ').map((assignment) => assignment.split('=', 2)));
}
