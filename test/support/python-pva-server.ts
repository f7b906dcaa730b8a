/**
 * A p4p (pvxs) server in a Python process, on loopback at free ports with a random PV prefix: the script prints
 * READY once it serves, then takes one JSON command a line on stdin and acknowledges each with a line of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EpicsPorts, epicsClientEnv, epicsServerEnv, freeEpicsPorts, randomPrefix } from './ioc.js';
import { venvPython } from './paths.js';

export class PythonPvaServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    /** What the server is, for error messages. */
    private readonly what: string,
    readonly prefix: string,
    readonly ports: EpicsPorts,
  ) {
    const onOutput = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
  }

  /** Runs `python ARGS PREFIX` and resolves once it is READY. */
  static async start(what: string, args: readonly string[]): Promise<PythonPvaServer> {
    const ports = await freeEpicsPorts();
    const prefix = randomPrefix();
    const child = spawn(venvPython, [...args, prefix], {
      env: { ...process.env, ...epicsServerEnv(ports) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new PythonPvaServer(child, what, prefix, ports);
    await server.waitFor(() => server.output.includes('READY'), 20_000);
    return server;
  }

  pv(name: string): string {
    return this.prefix + name;
  }

  get clientEnv(): Record<string, string> {
    return epicsClientEnv(this.ports);
  }

  /** Sends a command line and waits until the output holds one more `acknowledgement` than before. */
  async command(line: string, acknowledgement: string): Promise<void> {
    const count = this.output.split(acknowledgement).length;
    this.child.stdin?.write(`${line}\n`);
    await this.waitFor(() => this.output.split(acknowledgement).length > count, 10_000);
  }

  /** What the server printed so far, the lines that start with `prefix`, without it. */
  linesStartingWith(prefix: string): string[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith(prefix))
      .map((line) => line.slice(prefix.length));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private async waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`${this.what}: timed out; output:\n${this.output}`);
      if (this.child.exitCode !== null) throw new Error(`${this.what} exited:\n${this.output}`);
      await sleep(20);
    }
  }
}
