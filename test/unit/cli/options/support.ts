/** What the launcher's option tests share: files to name, the required options, and parsing shortcuts. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import type { LauncherOptions } from '../../../../src/cli/launcher-options.js';
import { parseLauncherArguments, type ParseOutcome } from '../../../../src/cli/options/resolve.js';

export const dir = mkdtempSync(join(tmpdir(), 'ekf-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));

export function file(name: string, content = ''): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export const caFile = file('ca.pem', 'ca');
export const certificateFile = file('client.pem', 'certificate');
export const keyFile = file('client.key', 'key');
export const logFile = join(dir, 'forwarder.log');

export const minimal = [
  '--config-topic',
  'localhost:9092/commands',
  '--status-topic',
  'localhost:9092/status',
  '--output-broker',
  'localhost:9092',
];

export function parse(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParseOutcome {
  return parseLauncherArguments(argv, env);
}

export function options(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LauncherOptions {
  const outcome = parse(argv, env);
  assert.equal(outcome.kind, 'run', outcome.kind === 'exit' ? outcome.output : '');
  return outcome.options;
}

/** The one-line message of a launch that must fail with exit code 2. */
export function failure(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const outcome = parse(argv, env);
  assert.equal(outcome.kind, 'exit', `expected a failure for ${argv.join(' ')}`);
  assert.equal(outcome.code, 2);
  assert.match(outcome.output, /^forwarder-launch: [^\n]+\n$/);
  return outcome.output.trimEnd();
}

export function configFile(name: string, lines: readonly string[]): string {
  return file(name, lines.join('\n') + '\n');
}

export function envName(long: string): string {
  return long.toUpperCase().replaceAll('-', '_');
}

/** What to give, and the message after `forwarder-launch: ` that the launch must fail with. */
export type MistakeCase = readonly [
  what: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  expected: string,
];

/** One test per case: the launch fails with exit code 2 and exactly that one-line message. */
export function itRefuses(cases: readonly MistakeCase[]): void {
  for (const [what, argv, env, expected] of cases) {
    it(what, () => assert.equal(failure(argv, env), `forwarder-launch: ${expected}`));
  }
}
