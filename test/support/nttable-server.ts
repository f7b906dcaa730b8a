/**
 * A p4p (pvxs) server of NTTables whose rows the test sets, for the forwarder's nttable_se00 / nttable_senv
 * streams: `table` (timestamp uint64, value double, name string) and `inttable` (timestamp int64, value int32).
 * Each post stamps the table's timeStamp with the wall clock. Loopback only, on free ports.
 */
import { PythonPvaServer } from './python-pva-server.js';

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
  private constructor(private readonly server: PythonPvaServer) {}

  static async start(): Promise<NtTableServer> {
    return new NtTableServer(await PythonPvaServer.start('NTTable server', ['-c', SERVER]));
  }

  pv(name: 'table' | 'inttable'): string {
    return this.server.pv(name);
  }

  get clientEnv(): Record<string, string> {
    return this.server.clientEnv;
  }

  /** Posts a new row set and waits until the server has it. */
  async post(name: 'table' | 'inttable', rows: readonly TableRow[]): Promise<void> {
    const json = JSON.stringify({ pv: name, rows }, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    await this.server.command(json, '\nOK');
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}
