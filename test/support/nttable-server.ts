/**
 * A p4p (pvxs) server of NTTables whose rows the test sets, for the forwarder's nttable_se00 / nttable_senv
 * streams: `table` (timestamp uint64, value double, name string) and `inttable` (timestamp int64, value int32).
 * Each post stamps the table's timeStamp with the wall clock. Loopback only, on free ports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type EpicsPorts, epicsClientEnv, epicsServerEnv, freeEpicsPorts, randomPrefix } from './ioc.js';
import { venvPython } from './paths.js';

const SERVER = `
import json, sys, time
from p4p.nt import NTTable
from p4p.server import Server
from p4p.server.thread import SharedPV

prefix = sys.argv[1]
COLUMNS = {
    "table": [("timestamp", "L"), ("value", "d"), ("name", "s")],
    "inttable": [("timestamp", "l"), ("value", "i")],
}
TYPES = {name: NTTable(columns=columns) for name, columns in COLUMNS.items()}

def stamped(name, rows):
    value = TYPES[name].wrap(rows)
    # wrap() marks no column changed for zero rows; a table emptied must say so.
    for column, _ in COLUMNS[name]:
        value["value." + column] = [row[column] for row in rows]
    now = time.time_ns()
    value["timeStamp.secondsPastEpoch"] = now // 1000000000
    value["timeStamp.nanoseconds"] = now % 1000000000
    return value

pvs = {name: SharedPV(initial=stamped(name, [])) for name in TYPES}
server = Server(providers=[{prefix + name: pv for name, pv in pvs.items()}])
print("READY", flush=True)
try:
    for line in sys.stdin:
        command = json.loads(line)
        # Timestamps come as decimal strings: ns since the epoch exceed a JSON number's exact range.
        rows = [{**row, "timestamp": int(row["timestamp"])} for row in command["rows"]]
        pvs[command["pv"]].post(stamped(command["pv"], rows))
        print("OK", flush=True)
finally:
    server.stop()
`;

/** One row: `timestamp` in ns, `value`, and for `table` a `name`. */
export interface TableRow {
  readonly timestamp: bigint;
  readonly value: number;
  readonly name?: string;
}

export class NtTableServer {
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

  static async start(): Promise<NtTableServer> {
    const ports = await freeEpicsPorts();
    const prefix = randomPrefix();
    const child = spawn(venvPython, ['-c', SERVER, prefix], {
      env: { ...process.env, ...epicsServerEnv(ports) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new NtTableServer(child, prefix, ports);
    await server.waitFor(() => server.output.includes('READY'), 20_000);
    return server;
  }

  pv(name: 'table' | 'inttable'): string {
    return this.prefix + name;
  }

  get clientEnv(): Record<string, string> {
    return epicsClientEnv(this.ports);
  }

  /** Posts a new row set and waits until the server has it. */
  async post(name: 'table' | 'inttable', rows: readonly TableRow[]): Promise<void> {
    const acknowledged = this.output.split('\nOK').length;
    const json = JSON.stringify({ pv: name, rows }, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    this.child.stdin?.write(`${json}\n`);
    await this.waitFor(() => this.output.split('\nOK').length > acknowledged, 10_000);
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
        throw new Error(`NTTable server: timed out; output:\n${this.output}`);
      if (this.child.exitCode !== null) throw new Error(`NTTable server exited:\n${this.output}`);
      await new Promise((resolveLater) => setTimeout(resolveLater, 20));
    }
  }
}
