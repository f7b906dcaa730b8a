import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';

export interface CtlResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock time from start to exit. */
  readonly elapsedMs: number;
}

/**
 * forwarder-ctl run from the sources (through tsx, so tests never see a stale build) as a child process, stdin
 * not a terminal, the way scripts run it.
 */
export class CtlProcess {
  stdout = '';
  stderr = '';
  private readonly started = Date.now();
  private readonly exited: Promise<CtlResult>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      stdout: this.stdout,
      stderr: this.stderr,
      elapsedMs: Date.now() - this.started,
    }));
  }

  static start(
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; input?: string } = {},
  ): CtlProcess {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src', 'ctl', 'forwarder-ctl.ts'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child.stdin?.end(options.input ?? '');
    return new CtlProcess(child);
  }

  /** Resolves with how the process ended; kills it if it runs longer than `timeoutMs`. */
  async exit(timeoutMs = 30_000): Promise<CtlResult> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until stdout matches; rejects on time-out or exit. */
  async waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stdout)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`forwarder-ctl exited before printing ${pattern}:\n${this.stdout}\n${this.stderr}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `forwarder-ctl did not print ${pattern} within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`,
        );
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
  }
}

/** Runs forwarder-ctl to its end. */
export async function runCtl(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CtlResult> {
  return CtlProcess.start(args, options).exit(options.timeoutMs);
}

/** The JSON lines of an output. */
export function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}
