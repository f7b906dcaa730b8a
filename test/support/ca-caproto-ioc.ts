import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { epicsClientEnv, epicsServerEnv, freeEpicsPorts, randomPrefix, type EpicsPorts } from './ioc.js';
import { untilOutput } from './child-output.js';
import { repoRoot, venvPython } from './paths.js';

/**
 * caproto's pure-Python CA server (a second, independent server implementation) running
 * `test/env/ca/contract_ioc.py` on loopback at free ports with a random prefix.
 */
export class CaprotoIoc {
  private constructor(
    readonly prefix: string,
    readonly ports: EpicsPorts,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<CaprotoIoc> {
    const prefix = randomPrefix();
    const ports = await freeEpicsPorts();
    const child = spawn(
      venvPython,
      [
        join(repoRoot, 'test', 'env', 'ca', 'contract_ioc.py'),
        '--prefix',
        prefix,
        '--interfaces',
        '127.0.0.1',
      ],
      { env: { ...process.env, ...epicsServerEnv(ports) }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    await untilOutput(child, 'IOC Running', 'caproto IOC', 30_000, (chunk) => (output += chunk));
    return new CaprotoIoc(prefix, ports, child);
  }

  pv(record: string): string {
    return this.prefix + record;
  }

  get clientEnv(): Record<string, string> {
    return epicsClientEnv(this.ports);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}
