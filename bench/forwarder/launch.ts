/** The forwarder under test: compiled and run as deployed (the default), or from the sources through tsx. */
import { spawnSync } from 'node:child_process';
import { ForwarderProcess } from '../../test/support/forwarder.js';
import { repoRoot } from '../../test/support/paths.js';
import { progress } from '../format.js';
import type { BenchSettings } from './settings.js';

/** npm run build: compiles src/ to dist/ for bin/forwarder-launch. */
export function build(): void {
  progress('npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    // tsc still emits when some file has a type error; say so, and go on with what it emitted.
    progress(
      `npm run build exited with ${result.status}:\n${result.stdout.toString()}${result.stderr.toString()}`,
    );
  }
}

/**
 * forwarder-launch with these arguments and environment: bin/forwarder-launch as deploy/forwarder.service runs
 * it, with the run's Node options and profiling, or (--launch sources) from the sources as the tests run it.
 */
export function startForwarder(
  settings: BenchSettings,
  args: readonly string[],
  env: Record<string, string>,
): ForwarderProcess {
  if (settings.launch === 'sources') return ForwarderProcess.start(args, env);
  const { cpuProfile, heapSnapshot } = settings;
  return ForwarderProcess.startCompiled(
    [
      ...settings.nodeOptions,
      ...(cpuProfile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfile]),
      ...(heapSnapshot === undefined
        ? []
        : ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir', heapSnapshot]),
    ],
    args,
    env,
  );
}
