/**
 * Runs test/env/pva/p4p_server.py (a p4p/pvxs server with NTTable, nested structures, unions, variants and
 * structure arrays) on loopback at free ports, and sends it commands.
 */
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { PythonPvaServer } from './python-pva-server.js';

export class P4pServer {
  private constructor(private readonly server: PythonPvaServer) {}

  static async start(): Promise<P4pServer> {
    const script = join(repoRoot, 'test', 'env', 'pva', 'p4p_server.py');
    return new P4pServer(await PythonPvaServer.start('p4p server', [script]));
  }

  pv(name: string): string {
    return this.server.pv(name);
  }

  get clientEnv(): Record<string, string> {
    return this.server.clientEnv;
  }

  /** Sends a command and waits for its acknowledgement. */
  async command(command: Record<string, unknown>): Promise<void> {
    await this.server.command(JSON.stringify(command), `OK ${String(command['op'])}`);
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}
