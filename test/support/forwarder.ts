import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launcherNodeOptions, unitEnvironment } from './deployment.js';
import { repoRoot } from './paths.js';

/**
 * forwarder-launch run from the sources (through tsx, so tests never see a stale build) as a child process, the
 * way systemd runs it: options as arguments and environment, logs on stderr. The benchmark runs the compiled one.
 */
export class ForwarderProcess {
  private log = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    this.exited = once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}): ForwarderProcess {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'forwarder-launch.ts'), ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new ForwarderProcess(child);
  }

  /**
   * bin/forwarder-launch (the compiled dist/) as deploy/forwarder.service runs it: the Node options of its #! line
   * and its Environment=. `nodeOptions` come after the unit's, so they can override them.
   */
  static startCompiled(
    nodeOptions: readonly string[],
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ): ForwarderProcess {
    const options = [...(launcherNodeOptions()?.split(' ') ?? []), ...nodeOptions];
    const child = spawn(process.execPath, [...options, join(repoRoot, 'bin', 'forwarder-launch'), ...args], {
      cwd: repoRoot,
      // The caller's environment wins (MALLOC_ARENA_MAX=16 is glibc's default on two cores).
      env: { ...unitEnvironment(), ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ForwarderProcess(child);
  }

  /** Everything the process printed so far. */
  get output(): string {
    return this.log;
  }

  /** Resolves when the output matches, rejects on time-out or exit (with the output, to see why). */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.log)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`forwarder exited before printing ${pattern}:\n${this.log}`);
      }
      if (Date.now() > deadline)
        throw new Error(`forwarder did not print ${pattern} within ${timeoutMs} ms:\n${this.log}`);
      await sleep(50);
    }
  }

  /** Sends a signal and resolves with how the process ended (killing it if it does not end in time). */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 30_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit(timeoutMs);
  }

  /** Resolves with the exit of a process expected to end by itself (usage errors, --help). */
  async exit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * How a forwarder stopped by SIGTERM during start-up ends cleanly: with exit code 0, or, stopped in the middle of
 * a librdkafka request (a connection attempt waits up to 10 s for its answer), by the signal itself.
 */
export function stoppedInStartUp(exit: { code: number | null; signal: NodeJS.Signals | null }): boolean {
  return exit.code === 0 || (exit.code === null && exit.signal === 'SIGTERM');
}
