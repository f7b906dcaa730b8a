import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { signalAndWait, untilOutput } from './child-output.js';
import { venvPython, repoRoot } from './paths.js';
import { freePort } from './ports.js';

/** The default test database (`test/env/ioc/test.db`). */
export const testDatabase = join(repoRoot, 'test', 'env', 'ioc', 'test.db');

export interface IocOptions {
  /** .db files to load; default: the test database. */
  databases?: readonly string[];
  /** PV prefix (macro P); default: a random one, so leftover IOCs cannot answer for this one. */
  prefix?: string;
  /** More macros besides P. */
  macros?: Readonly<Record<string, string>>;
}

export interface EpicsPorts {
  caServerPort: number;
  caRepeaterPort: number;
  pvaServerPort: number;
  pvaBroadcastPort: number;
}

/** PVA beacons go to loopback's broadcast address, where every client on the port hears them. */
const PVA_BEACON_ADDRESS = '127.255.255.255';

/**
 * Environment for EPICS clients (ours, caproto's, p4p's) that must find only servers on loopback at these
 * ports: automatic address lists off, so no search or beacon ever leaves the machine.
 */
export function epicsClientEnv(ports: EpicsPorts): Record<string, string> {
  return {
    EPICS_CA_AUTO_ADDR_LIST: 'NO',
    EPICS_CA_ADDR_LIST: '127.0.0.1',
    EPICS_CA_SERVER_PORT: String(ports.caServerPort),
    EPICS_CA_REPEATER_PORT: String(ports.caRepeaterPort),
    EPICS_PVA_AUTO_ADDR_LIST: 'NO',
    EPICS_PVA_ADDR_LIST: '127.0.0.1',
    EPICS_PVA_SERVER_PORT: String(ports.pvaServerPort),
    EPICS_PVA_BROADCAST_PORT: String(ports.pvaBroadcastPort),
    EPICS_PVA_INTF_ADDR_LIST: PVA_BEACON_ADDRESS,
  };
}

/** Environment for an EPICS server: listen and beacon on loopback only. */
export function epicsServerEnv(ports: EpicsPorts): Record<string, string> {
  return {
    ...epicsClientEnv(ports),
    EPICS_CAS_INTF_ADDR_LIST: '127.0.0.1',
    EPICS_CAS_AUTO_BEACON_ADDR_LIST: 'NO',
    EPICS_CAS_BEACON_ADDR_LIST: '127.0.0.1',
    EPICS_CAS_BEACON_PORT: String(ports.caRepeaterPort),
    EPICS_CAS_SERVER_PORT: String(ports.caServerPort),
    EPICS_PVAS_INTF_ADDR_LIST: '127.0.0.1',
    EPICS_PVAS_AUTO_BEACON_ADDR_LIST: 'NO',
    EPICS_PVAS_BEACON_ADDR_LIST: PVA_BEACON_ADDRESS,
    EPICS_PVAS_SERVER_PORT: String(ports.pvaServerPort),
    EPICS_PVAS_BROADCAST_PORT: String(ports.pvaBroadcastPort),
  };
}

/** Four free loopback ports for one EPICS server's CA and PVA endpoints. */
export async function freeEpicsPorts(): Promise<EpicsPorts> {
  return {
    caServerPort: await freePort(),
    caRepeaterPort: await freePort(),
    pvaServerPort: await freePort(),
    pvaBroadcastPort: await freePort(),
  };
}

export function randomPrefix(): string {
  return `T${Math.random().toString(36).slice(2, 8).toUpperCase()}:`;
}

/**
 * A real EPICS IOC (EPICS base softIoc with rsrv and QSRV, from the pvxslibs wheels) serving a database over
 * CA and PVA on loopback at free ports. It can be stopped, killed and started again on the same ports.
 */
export class TestIoc {
  private process: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly prefix: string,
    readonly ports: EpicsPorts,
    private readonly args: readonly string[],
  ) {}

  static async start(options: IocOptions = {}): Promise<TestIoc> {
    const prefix = options.prefix ?? randomPrefix();
    const macros = Object.entries({ P: prefix, ...options.macros })
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    const args = [join(repoRoot, 'test', 'env', 'ioc', 'run_ioc.py'), '-m', macros];
    for (const db of options.databases ?? [testDatabase]) args.push('-d', db);
    const ioc = new TestIoc(prefix, await freeEpicsPorts(), args);
    await ioc.start();
    return ioc;
  }

  /** Full PV name for a record name of the database. */
  pv(record: string): string {
    return this.prefix + record;
  }

  /** Environment for clients that must find this IOC and nothing else. */
  get clientEnv(): Record<string, string> {
    return epicsClientEnv(this.ports);
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** The IOC process's id while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the IOC process (again); resolves once it serves its records. */
  async start(): Promise<void> {
    if (this.process) return;
    this.log = '';
    const child = spawn(venvPython, this.args, {
      env: { ...process.env, ...epicsServerEnv(this.ports) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await untilOutput(child, 'IOC Running', 'IOC', 30_000, (chunk) => (this.log += chunk));
  }

  /** Orderly stop (SIGTERM). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Abrupt stop (SIGKILL), as when an IOC host dies. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Everything the IOC printed since its last start. */
  get output(): string {
    return this.log;
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    await signalAndWait(child, signal);
  }
}
