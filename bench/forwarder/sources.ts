/**
 * Where a step's load comes from: the IOC's counting records (bench/load-ioc.ts), or (--source stream) the PVA
 * stream server, each able to switch the load on and off and to say how many updates every PV was served.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaClient } from '../../src/epics/ca/client.js';
import type { PvUpdate } from '../../src/model/update.js';
import { caPut } from '../../test/support/ca-recorder.js';
import { TestIoc } from '../../test/support/ioc.js';
import { startPvaLoadProcess } from '../../test/support/pva-load-process.js';
import { countingDatabase, counterName, GATE } from '../load-ioc.js';
import type { EpicsProtocolName, LoadSourceKind, Step } from './settings.js';

/** A running load server. */
export interface LoadSource {
  /** The process that serves the load, for its CPU time. */
  readonly pid: number;
  readonly names: readonly string[];
  readonly clientEnv: Record<string, string>;
  setLoad(on: boolean): Promise<void>;
  /** Every PV's counter now: 1 before the load, one more per update served. */
  counts(): Promise<Float64Array>;
}

/** The value of a scalar update, NaN for any other. */
export const scalarOf = (update: PvUpdate): number =>
  update.value.kind === 'scalar' ? Number(update.value.value) : Number.NaN;

/** Runs `body` with the step's load source started, and stops the source after. */
export async function withSource<T>(
  kind: LoadSourceKind,
  protocol: EpicsProtocolName,
  step: Step,
  directory: string,
  body: (source: LoadSource) => Promise<T>,
): Promise<T> {
  return kind === 'stream' ? withStreamServer(protocol, step, body) : withIoc(step, directory, body);
}

async function withIoc<T>(
  step: Step,
  directory: string,
  body: (source: LoadSource) => Promise<T>,
): Promise<T> {
  const database = join(directory, `load-${step.pvs}x${step.hz}${step.spread ? '-spread' : ''}.db`);
  writeFileSync(database, countingDatabase(step.pvs, step.hz, { spread: step.spread }));
  const ioc = await TestIoc.start({ databases: [database] });
  const names = Array.from({ length: step.pvs }, (_, i) => ioc.pv(counterName(i)));
  try {
    return await body({
      pid: ioc.pid as number,
      names,
      clientEnv: ioc.clientEnv,
      setLoad: (on) => caPut(ioc.clientEnv, [[ioc.pv(GATE), on ? 1 : 0]], 0),
      counts: () => iocCounts(ioc, names),
    });
  } finally {
    await ioc.stop();
  }
}

/**
 * The PVA stream server (test/support/pva-stream-server.ts) in its own process: it costs far less CPU per update
 * than QSRV, so the forwarder can be offered more than an IOC on the same two cores can serve.
 */
async function withStreamServer<T>(
  protocol: EpicsProtocolName,
  step: Step,
  body: (source: LoadSource) => Promise<T>,
): Promise<T> {
  if (protocol !== 'pva') throw new Error('--source stream serves PVA only');
  const { server, clientEnv, names } = await startPvaLoadProcess(
    'pva-stream-server.ts',
    'stream server',
    step.pvs,
    `BENCH${process.pid}:`,
  );
  const expect = async (line: string, answer: string): Promise<string> => {
    const reply = await server.request(line);
    if (!reply.startsWith(answer)) throw new Error(`stream server answered ${line} with: ${reply}`);
    return reply;
  };
  try {
    return await body({
      pid: server.child.pid as number,
      names,
      clientEnv,
      setLoad: async (on) => {
        await (on ? expect(`START ${step.pvs * step.hz}`, 'STARTED') : expect('STOP', 'STOPPED'));
      },
      counts: async () => {
        const reply = await expect('COUNTS', 'COUNTS ');
        return Float64Array.from(JSON.parse(reply.slice('COUNTS '.length)) as number[]);
      },
    });
  } finally {
    server.close();
    if (server.child.exitCode === null) await once(server.child, 'exit');
  }
}

/** The IOC's current value of every counter (one CA subscription each, first value). */
async function iocCounts(ioc: TestIoc, names: readonly string[]): Promise<Float64Array> {
  const client = new CaClient({ env: ioc.clientEnv });
  const values = new Float64Array(names.length).fill(NaN);
  let pending = names.length;
  await new Promise<void>((resolveAll, rejectAll) => {
    const timer = setTimeout(() => rejectAll(new Error('IOC counters not all read within 60 s')), 60_000);
    names.forEach((name, i) => {
      client.subscribe(name, {
        onConnection: () => undefined,
        onUpdate: (update) => {
          if (!Number.isNaN(values[i] as number)) return;
          values[i] = scalarOf(update);
          if (--pending === 0) {
            clearTimeout(timer);
            resolveAll();
          }
        },
      });
    });
  });
  await client.close();
  return values;
}
