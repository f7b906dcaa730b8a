import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * forwarder-launch run from the sources (through tsx, so tests never see a stale build) as a child process, the
 * way systemd runs it: options as arguments and environment, logs on stderr.
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
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
  }

  /** Sends a signal and resolves with how the process ended (killing it if it does not end in time). */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 30_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
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
