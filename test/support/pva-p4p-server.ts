/**
 * Runs test/env/pva/p4p_server.py (a p4p/pvxs server with NTTable, nested structures, unions, variants and
 * structure arrays) on loopback at free ports, and sends it commands.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { type EpicsPorts, epicsClientEnv, epicsServerEnv, freeEpicsPorts, randomPrefix } from './ioc.js';
import { repoRoot, venvPython } from './paths.js';

export class P4pServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly prefix: string,
    readonly ports: EpicsPorts,
  ) {
    const onOutput = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
  }

  static async start(): Promise<P4pServer> {
    const ports = await freeEpicsPorts();
    const prefix = randomPrefix();
    const child = spawn(venvPython, [join(repoRoot, 'test', 'env', 'pva', 'p4p_server.py'), prefix], {
      env: { ...process.env, ...epicsServerEnv(ports) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new P4pServer(child, prefix, ports);
    await server.waitForOutput('READY', 20_000);
    return server;
  }

  pv(name: string): string {
    return this.prefix + name;
  }

  get clientEnv(): Record<string, string> {
    return epicsClientEnv(this.ports);
  }

  /** Sends a command and waits for its acknowledgement. */
  async command(command: Record<string, unknown>): Promise<void> {
    const count = this.output.split(`OK ${String(command['op'])}`).length;
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
    await this.waitFor(() => this.output.split(`OK ${String(command['op'])}`).length > count, 10_000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private async waitForOutput(text: string, timeoutMs: number): Promise<void> {
    await this.waitFor(() => this.output.includes(text), timeoutMs);
  }

  private async waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs) throw new Error(`p4p server: timed out; output:\n${this.output}`);
      if (this.child.exitCode !== null) throw new Error(`p4p server exited:\n${this.output}`);
      await new Promise((resolveLater) => setTimeout(resolveLater, 20));
    }
  }
}
