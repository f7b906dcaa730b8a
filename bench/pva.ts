/**
 * pvAccess client benchmark: this project's client against p4p's (the reference forwarder's client), in the
 * same run on the same machine.
 *
 * 1. Connect: 10,000 PVs of a real IOC (QSRV); time until every one has delivered its first value.
 * 2. Steady load: the same IOC processing all 10,000 records at 10 Hz (nominal 100,000 updates/s). "Served" is
 *    what the IOC actually processed in the window (each record counts up by one per processing), so a client
 *    that falls behind shows as delivered < served.
 * 3. Saturation: a load-generator process (test/support/pva-flood-server.ts) floods 1,000 PVs with steady-state
 *    updates as fast as the client reads; delivered/s is the client's ceiling.
 *
 * CPU is the client process's user+system time over the window; "per 10k/s" normalises it to the cost of
 * 10,000 updates per second, as a percentage of one core. Usage: npm run bench:pva (PVA_BENCH_SECONDS=5).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PvaClient } from '../src/epics/pva/client.js';
import type { PvUpdate } from '../src/model/update.js';
import { TestIoc, randomPrefix } from '../test/support/ioc.js';
import { venvPython } from '../test/support/paths.js';
import { startPvaLoadProcess } from '../test/support/pva-load-process.js';
import { progress } from './format.js';

const PV_COUNT = 10_000;
const FLOOD_PV_COUNT = 1_000;
const WINDOW_S = Number(process.env['PVA_BENCH_SECONDS'] ?? 5);
const SETTLE_MS = 1000;
const CONNECT_DEADLINE_MS = 60_000;

interface Measurement {
  /** Time until every PV delivered a first value (ms); NaN if some never did within the deadline. */
  connectMs: number;
  /** PVs that delivered a value before the window. */
  connected: number;
  /** Updates delivered to callbacks in the window. */
  received: number;
  /** Updates the server produced in the window (IOC: processings; flood: updates written). */
  served: number;
  cpuS: number;
  wallS: number;
  /** Our client only: JS heap in use once connected (MB). */
  heapMb?: number;
  /** p4p only: "Lost Subscription update" errors it printed. */
  clientErrors?: number;
}

/**
 * Our client: subscribe to every name, wait for all first values, then count a window. The IOC's records count
 * up by one per processing, so value differences over the window are what it served; a flood server reports
 * its own count.
 */
async function measureOurs(
  env: Record<string, string>,
  names: readonly string[],
  floodCount?: () => Promise<number>,
): Promise<Measurement> {
  const client = new PvaClient({ env });
  const last = new Float64Array(names.length).fill(Number.NaN);
  let received = 0;
  let withValue = 0;
  const started = performance.now();
  let connectMs = Number.NaN;
  names.forEach((name, i) => {
    client.subscribe(name, {
      onConnection: () => undefined,
      onUpdate: (update: PvUpdate) => {
        received++;
        if (Number.isNaN(last[i] as number)) {
          withValue++;
          if (withValue === names.length) connectMs = performance.now() - started;
        }
        last[i] = update.value.kind === 'scalar' ? Number(update.value.value) : 0;
      },
    });
  });
  const deadline = Date.now() + CONNECT_DEADLINE_MS;
  while (Number.isNaN(connectMs) && Date.now() < deadline) await sleep(10);
  await sleep(SETTLE_MS);
  const connected = withValue;
  const heapMb = process.memoryUsage().heapUsed / 1e6;
  const flood0 = floodCount ? await floodCount() : 0;
  const first = Float64Array.from(last);
  const received0 = received;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  const receivedInWindow = received - received0;
  const flood1 = floodCount ? await floodCount() : 0;
  let servedByValues = 0;
  for (let i = 0; i < names.length; i++) {
    const delta = (last[i] as number) - (first[i] as number);
    if (!Number.isNaN(delta)) servedByValues += delta;
  }
  await client.close();
  return {
    connectMs,
    connected,
    received: receivedInWindow,
    served: floodCount ? flood1 - flood0 : servedByValues,
    cpuS: (cpu.user + cpu.system) / 1e6,
    wallS,
    heapMb,
  };
}

/** The same with p4p's client (thread Context, nt=False, as the reference forwarder uses it). */
async function measureP4p(
  env: Record<string, string>,
  names: readonly string[],
  floodCount?: () => Promise<number>,
): Promise<Measurement> {
  const code = `
import itertools, json, os, sys, time
from p4p.client.thread import Context
cfg = json.loads(sys.stdin.readline())
names, window, settle, deadline_s = cfg['names'], cfg['window'], cfg['settle'], cfg['deadline']
N = len(names)
ctx = Context('pva', nt=False)
last = [None] * N
counter = itertools.count()
firsts = set()
done = [None]
t0 = time.time()
def make(i):
    def cb(v):
        if isinstance(v, Exception):
            return
        last[i] = v['value']
        next(counter)
        if i not in firsts:
            firsts.add(i)
            if len(firsts) == N:
                done[0] = time.time()
    return cb
subs = [ctx.monitor(n, make(i)) for i, n in enumerate(names)]
deadline = time.time() + deadline_s
while done[0] is None and time.time() < deadline:
    time.sleep(0.01)
time.sleep(settle)
connected = len(firsts)
print('WINDOW', flush=True)
sys.stdin.readline()
first = list(last); c0 = next(counter); cpu0 = time.process_time(); w0 = time.time()
time.sleep(window)
c1 = next(counter); cpu1 = time.process_time(); w1 = time.time()
print('END', flush=True)
sys.stdin.readline()
served = sum(b - a for a, b in zip(first, last) if a is not None and b is not None)
print(json.dumps({'connectMs': (done[0] - t0) * 1000 if done[0] else None, 'connected': connected,
                  'received': c1 - c0 - 1,
                  'cpuS': cpu1 - cpu0, 'wallS': w1 - w0, 'served': served}), flush=True)
# Closing 10,000 subscriptions, or any under a flood, can take minutes in p4p: skip the teardown.
os._exit(0)
`;
  // Driven line by line so the flood server's count can be sampled at the window's edges.
  const child = spawn(venvPython, ['-c', code], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // p4p reports its own failures on stderr ("Lost Subscription update ..."): count them for the report.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const iterator = lines[Symbol.asyncIterator]();
  child.stdin?.write(
    `${JSON.stringify({ names, window: WINDOW_S, settle: SETTLE_MS / 1000, deadline: CONNECT_DEADLINE_MS / 1000 })}\n`,
  );
  const nextLine = async (): Promise<string> => {
    const { value, done } = await iterator.next();
    if (done) throw new Error('p4p benchmark ended early');
    return value as string;
  };
  if ((await nextLine()) !== 'WINDOW') throw new Error('unexpected p4p output');
  progress('p4p connected; counting');
  const flood0 = floodCount ? await floodCount() : 0;
  child.stdin?.write('\n');
  if ((await nextLine()) !== 'END') throw new Error('unexpected p4p output');
  const flood1 = floodCount ? await floodCount() : 0;
  child.stdin?.write('\n');
  const result = JSON.parse(await nextLine()) as Measurement & { connectMs: number | null };
  result.connectMs ??= Number.NaN;
  child.stdin?.end();
  if (floodCount) result.served = flood1 - flood0;
  result.clientErrors = stderr.split('Lost Subscription update').length - 1;
  return result;
}

/** The load generator in its own process, so it does not share the client's core. */
async function startFlood(count: number): Promise<{
  env: Record<string, string>;
  names: string[];
  flooded(): Promise<number>;
  stop(): void;
}> {
  const { server, clientEnv, names } = await startPvaLoadProcess(
    'pva-flood-server.ts',
    'flood server',
    count,
    randomPrefix(),
  );
  return {
    env: clientEnv,
    names,
    flooded: async () => Number((await server.request('')).split(' ')[1]),
    stop: () => server.close(),
  };
}

function connectTime(m: Measurement): string {
  return Number.isNaN(m.connectMs)
    ? `${fmt(m.connected)} of ${fmt(PV_COUNT)} after ${CONNECT_DEADLINE_MS / 1000} s`
    : `${fmt(m.connectMs)} ms`;
}

function rate(m: Measurement, field: 'received' | 'served'): number {
  return m[field] / m.wallS;
}

function cpuPercent(m: Measurement): number {
  return (100 * m.cpuS) / m.wallS;
}

function cpuPer10k(m: Measurement): number {
  return cpuPercent(m) / (rate(m, 'received') / 10_000);
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

function row(label: string, m: Measurement): string {
  return [
    label.padEnd(8),
    fmt(rate(m, 'served')).padStart(12),
    fmt(rate(m, 'received')).padStart(13),
    `${fmt(cpuPercent(m), 1)} %`.padStart(10),
    `${fmt(cpuPer10k(m), 2)} %`.padStart(16),
  ].join('  ');
}

const header = `${'client'.padEnd(8)}  ${'served/s'.padStart(12)}  ${'delivered/s'.padStart(13)}  ${'CPU'.padStart(10)}  ${'CPU per 10k/s'.padStart(16)}`;

async function main(): Promise<void> {
  console.log(
    `pvAccess client benchmark (window ${WINDOW_S} s; machine load average at start: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')})\n`,
  );

  // ---- 1 + 2: a real IOC ----
  const directory = await mkdtemp(join(tmpdir(), 'pva-bench-'));
  const database = join(directory, 'bench.db');
  const records = Array.from(
    { length: PV_COUNT },
    (_, i) =>
      `record(calc, "$(P)n${i}") { field(SCAN, ".1 second") field(INPA, "$(P)n${i} NPP") field(CALC, "A+1") }`,
  );
  await writeFile(database, `${records.join('\n')}\n`);
  const ioc = await TestIoc.start({ databases: [database] });
  const names = Array.from({ length: PV_COUNT }, (_, i) => ioc.pv(`n${i}`));
  progress('IOC running; measuring our client');
  const ours = await measureOurs(ioc.clientEnv, names);
  progress('measuring p4p');
  const theirs = await measureP4p(ioc.clientEnv, names);
  progress('p4p done');
  await ioc.stop();
  await rm(directory, { recursive: true, force: true });

  console.log(
    `1. Connect ${PV_COUNT.toLocaleString('en-US')} PVs (real IOC, QSRV): time until all delivered a value`,
  );
  console.log(
    `   ours ${connectTime(ours)}    p4p ${connectTime(theirs)}    p4p/ours ${fmt(theirs.connectMs / ours.connectMs, 2)}`,
  );
  console.log(`   our process's JS heap with 10,000 PVs connected: ${fmt(ours.heapMb ?? Number.NaN)} MB\n`);

  console.log(
    `2. Steady load: ${PV_COUNT.toLocaleString('en-US')} records at 10 Hz (nominal 100,000 updates/s)`,
  );
  console.log(`   ${header}`);
  console.log(`   ${row('ours', ours)}`);
  console.log(`   ${row('p4p', theirs)}`);
  if (theirs.clientErrors)
    console.log(`   (p4p printed ${fmt(theirs.clientErrors)} "Lost Subscription update" errors)`);
  console.log(
    `   delivered ours/p4p ${fmt(rate(ours, 'received') / rate(theirs, 'received'), 2)}; CPU per 10k/s p4p/ours ${fmt(cpuPer10k(theirs) / cpuPer10k(ours), 1)}; ours extrapolated to one full core ≈ ${fmt((rate(ours, 'received') * 100) / cpuPercent(ours))} updates/s\n`,
  );

  // ---- 3: saturation ----
  progress('starting the load generator; measuring our client');
  const flood = await startFlood(FLOOD_PV_COUNT);
  const oursFlood = await measureOurs(flood.env, flood.names, flood.flooded);
  progress('measuring p4p');
  const theirsFlood = await measureP4p(flood.env, flood.names, flood.flooded);
  flood.stop();
  console.log(
    `3. Saturation: ${FLOOD_PV_COUNT.toLocaleString('en-US')} PVs flooded by a load-generator process`,
  );
  console.log(`   ${header}`);
  console.log(`   ${row('ours', oursFlood)}`);
  console.log(`   ${row('p4p', theirsFlood)}`);
  if (theirsFlood.clientErrors) {
    console.log(`   (p4p printed ${fmt(theirsFlood.clientErrors)} "Lost Subscription update" errors)`);
  }
  console.log(
    `   delivered ours/p4p ${fmt(rate(oursFlood, 'received') / rate(theirsFlood, 'received'), 2)}; CPU per 10k/s p4p/ours ${fmt(cpuPer10k(theirsFlood) / cpuPer10k(oursFlood), 1)}`,
  );
  const target =
    rate(oursFlood, 'received') >= 100_000 && rate(oursFlood, 'received') > rate(theirsFlood, 'received');
  console.log(
    `\nTarget (>= 100,000 updates/s on one core and faster than p4p): ${target ? 'met' : 'NOT met'}`,
  );
}

await main();
