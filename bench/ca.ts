/**
 * Channel Access client benchmark: our client against caproto's threading client and pyepics (libca), in the
 * same run, against the same real IOC (EPICS base softIoc from pvxslibs, loopback only).
 *
 * 1. Connect time: 10,000 PVs subscribed at once, until every one is connected and has delivered its first value.
 * 2. Throughput: 1,000 PVs each changing at BENCH_CA_RATE_HZ (default 100 Hz, so 100,000 updates/s offered);
 *    updates received per second, CPU of the client process, CPU per 10,000 updates/s. The IOC's records count
 *    their own processing, so what the IOC actually served is reported too.
 *
 * 3. The same against the in-repo fake CA server streaming from its own process at BENCH_CA_STREAM_RATE (default
 *    200,000 updates/s): the IOC's CA server coalesces updates of fast records (its per-client event queue), so
 *    it cannot show what a client can take.
 *
 * Environment: BENCH_CA_CONNECT_PVS (10000), BENCH_CA_RATE_PVS (1000), BENCH_CA_RATE_HZ (100),
 * BENCH_CA_STREAM_RATE (200000), BENCH_CA_SECONDS (5), BENCH_CA_PYTHON_CLIENTS (caproto,pyepics).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaClient } from '../src/epics/ca/client.js';
import type { PvUpdate } from '../src/model/update.js';
import { TestIoc } from '../test/support/ioc.js';
import { repoRoot } from '../test/support/paths.js';
import { runPython, runPythonCode } from '../test/support/python.js';
import { fixed, thousands } from './format.js';

const CONNECT_PVS = Number(process.env['BENCH_CA_CONNECT_PVS'] ?? 10_000);
const RATE_PVS = Number(process.env['BENCH_CA_RATE_PVS'] ?? 1000);
const RATE_HZ = Number(process.env['BENCH_CA_RATE_HZ'] ?? 100);
const WINDOW_S = Number(process.env['BENCH_CA_SECONDS'] ?? 5);
const PYTHON_CLIENTS = (process.env['BENCH_CA_PYTHON_CLIENTS'] ?? 'caproto,pyepics')
  .split(',')
  .filter(Boolean);
const WARM_UP_MS = 1000;
/** Records per forward-link chain; the IOC processes a chain in one go, so keep its recursion shallow. */
const CHAIN_LENGTH = 100;
/** The fastest standard scan period; faster rates come from processing each chain several times per scan. */
const SCAN_PERIOD_S = 0.1;
const MAX_FANOUT_LINKS = 16;
const BENCH_CLIENT = join(repoRoot, 'test', 'env', 'ca', 'bench_client.py');
const STREAM_SERVER = join(repoRoot, 'test', 'support', 'ca-stream-server.ts');
const STREAM_RATE = Number(process.env['BENCH_CA_STREAM_RATE'] ?? 200_000);

interface ConnectResult {
  seconds: number;
  connected: number;
}

interface RateResult {
  updates: number;
  seconds: number;
  cpuSeconds: number;
  /** Record processings the IOC made during the window (each one posts an update). */
  offered: number;
}

/** 10,000 static records, each with an initial value. */
function staticDatabase(count: number): string {
  return Array.from(
    { length: count },
    (_, i) => `record(ao, "$(P)c:${i}") { field(VAL, "${i}") field(PINI, "YES") }`,
  )
    .join('\n')
    .concat('\n');
}

/**
 * `count` calc records counting their own processing, in chains of CHAIN_LENGTH linked by FLNK. One pass
 * processes every chain once; a fanout scanned every 0.1 s runs `rateHz / 10` passes, so consecutive updates of
 * one record are a whole pass apart (the IOC's per-client event queue coalesces updates that come closer).
 */
function fastDatabase(count: number, rateHz: number): string {
  const passes = Math.round(rateHz * SCAN_PERIOD_S);
  const chains = Math.ceil(count / CHAIN_LENGTH);
  if (passes < 1 || passes > MAX_FANOUT_LINKS || chains > MAX_FANOUT_LINKS) {
    throw new Error(
      `BENCH_CA_RATE_HZ must be 10..${10 * MAX_FANOUT_LINKS} and BENCH_CA_RATE_PVS at most 1600`,
    );
  }
  const links = (target: (i: number) => string, n: number): string =>
    Array.from({ length: n }, (_, i) => `field(LNK${i.toString(16).toUpperCase()}, "${target(i)}")`).join(
      ' ',
    );
  const lines = [
    `record(fanout, "$(P)drive") { field(SCAN, ".1 second") ${links((i) => `$(P)pass:${i}`, passes)} }`,
  ];
  for (let pass = 0; pass < passes; pass++) {
    lines.push(`record(fanout, "$(P)pass:${pass}") { ${links((i) => `$(P)r:${i * CHAIN_LENGTH}`, chains)} }`);
  }
  for (let i = 0; i < count; i++) {
    const last = i % CHAIN_LENGTH === CHAIN_LENGTH - 1 || i === count - 1;
    const forward = last ? '' : ` field(FLNK, "$(P)r:${i + 1}")`;
    lines.push(`record(calc, "$(P)r:${i}") { field(INPA, "$(P)r:${i} NPP") field(CALC, "A+1")${forward} }`);
  }
  return lines.join('\n') + '\n';
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function ourConnect(env: Record<string, string>, names: string[]): Promise<ConnectResult> {
  const client = new CaClient({ env });
  let connected = 0;
  const started = performance.now();
  await new Promise<void>((resolveAll) => {
    for (const name of names) {
      let first = true;
      client.subscribe(name, {
        onConnection: () => undefined,
        onUpdate: () => {
          if (!first) return;
          first = false;
          if (++connected === names.length) resolveAll();
        },
      });
    }
  });
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return { seconds, connected };
}

async function ourRate(env: Record<string, string>, names: string[]): Promise<RateResult> {
  const client = new CaClient({ env });
  const latest = new Float64Array(names.length).fill(Number.NaN);
  let updates = 0;
  let firsts = 0;
  let allFirst: () => void = () => undefined;
  const ready = new Promise<void>((resolveReady) => (allFirst = resolveReady));
  names.forEach((name, index) => {
    client.subscribe(name, {
      onConnection: () => undefined,
      onUpdate: (update: PvUpdate) => {
        updates++;
        if (Number.isNaN(latest[index] as number) && ++firsts === names.length) allFirst();
        latest[index] = (update.value as { value: number }).value;
      },
    });
  });
  await ready;
  await sleep(WARM_UP_MS);
  const start = { updates, latest: Float64Array.from(latest), cpu: cpuSeconds(), wall: performance.now() };
  await sleep(WINDOW_S * 1000);
  const end = { updates, latest: Float64Array.from(latest), cpu: cpuSeconds(), wall: performance.now() };
  await client.close();
  let offered = 0;
  end.latest.forEach((value, i) => (offered += value - (start.latest[i] as number)));
  return {
    updates: end.updates - start.updates,
    seconds: (end.wall - start.wall) / 1000,
    cpuSeconds: end.cpu - start.cpu,
    offered,
  };
}

async function pythonClient<T>(
  env: Record<string, string>,
  library: string,
  mode: string,
  names: string[],
): Promise<T> {
  const { stdout } = await runPython([BENCH_CLIENT, library, mode, String(WINDOW_S)], {
    env,
    input: JSON.stringify(names),
    timeoutMs: 600_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

async function pythonAvailable(library: string): Promise<boolean> {
  const module = library === 'pyepics' ? 'epics' : library;
  try {
    await runPythonCode(`import ${module}`, { timeoutMs: 60_000 });
    return true;
  } catch {
    return false;
  }
}

async function compareRates(env: Record<string, string>, names: string[], clients: string[]): Promise<void> {
  console.log('  client   updates/s    served/s  received  CPU (% core)  CPU per 10k updates/s');
  const rates = new Map<string, RateResult>();
  for (const client of clients) {
    const result =
      client === 'ours'
        ? await ourRate(env, names)
        : await pythonClient<RateResult>(env, client, 'rate', names);
    rates.set(client, result);
    const rate = result.updates / result.seconds;
    const served = result.offered / result.seconds;
    const cpu = (100 * result.cpuSeconds) / result.seconds;
    console.log(
      `  ${client.padEnd(8)} ${thousands(rate).padStart(9)}  ${thousands(served).padStart(10)}  ${fixed((100 * result.updates) / Math.max(result.offered, 1), 1).padStart(7)}%  ${fixed(cpu, 1).padStart(12)}  ${fixed((cpu * 10_000) / Math.max(rate, 1), 2).padStart(13)} %`,
    );
  }
  const ours = rates.get('ours') as RateResult;
  const ourRatePerS = ours.updates / ours.seconds;
  const ourCpuPerUpdate = ours.cpuSeconds / Math.max(ours.updates, 1);
  for (const [client, result] of rates) {
    if (client === 'ours') continue;
    const rate = result.updates / result.seconds;
    if (result.updates === 0) {
      console.log(`  ours vs ${client}: ${client} delivered no update in the window (overloaded)`);
      continue;
    }
    const cpuPerUpdate = result.cpuSeconds / result.updates;
    console.log(
      `  ours vs ${client}: ${fixed(ourRatePerS / rate, 1)}x the updates/s, ${fixed(cpuPerUpdate / ourCpuPerUpdate, 1)}x less CPU per update`,
    );
  }
  const ceiling = ours.cpuSeconds > 0 ? ours.updates / ours.cpuSeconds : 0;
  console.log(
    `  ours: ${thousands(ceiling)} updates per CPU-second (one core's ceiling at this per-update cost)`,
  );
}

async function startStreamServer(
  count: number,
  rate: number,
): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', STREAM_SERVER, String(count), String(rate)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [
    string,
  ];
  return {
    env: JSON.parse(line) as Record<string, string>,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-ca-'));
  const clients = ['ours'];
  for (const library of PYTHON_CLIENTS) {
    if (await pythonAvailable(library)) clients.push(library);
    else console.log(`${library}: not installed in the test venv, skipped`);
  }
  try {
    const staticDb = join(directory, 'static.db');
    writeFileSync(staticDb, staticDatabase(CONNECT_PVS));

    console.log(
      `CA client benchmark (Node ${process.version}; IOC: EPICS base softIoc from pvxslibs, loopback)`,
    );
    console.log(
      `\n1. Connect ${thousands(CONNECT_PVS)} PVs (subscribed at once; until each is connected with a first value)`,
    );
    const connect = new Map<string, ConnectResult>();
    let ioc = await TestIoc.start({ databases: [staticDb] });
    try {
      const names = Array.from({ length: CONNECT_PVS }, (_, i) => ioc.pv(`c:${i}`));
      for (const client of clients) {
        const result =
          client === 'ours'
            ? await ourConnect(ioc.clientEnv, names)
            : await pythonClient<ConnectResult>(ioc.clientEnv, client, 'connect', names);
        connect.set(client, result);
        console.log(
          `  ${client.padEnd(8)} ${fixed(result.seconds, 3).padStart(8)} s  (${thousands(result.connected)} connected)`,
        );
      }
    } finally {
      await ioc.stop();
    }
    const ours = connect.get('ours') as ConnectResult;
    for (const [client, result] of connect) {
      if (client !== 'ours')
        console.log(`  ours is ${fixed(result.seconds / ours.seconds, 1)}x faster than ${client}`);
    }

    for (const [section, hz] of [
      ['2', 10],
      ['3', RATE_HZ],
    ] as const) {
      console.log(
        `\n${section}. Real IOC: ${thousands(RATE_PVS)} PVs changing at ${hz} Hz each (${thousands(RATE_PVS * hz)} record updates/s), ${WINDOW_S} s window`,
      );
      const fastDb = join(directory, `fast-${hz}.db`);
      writeFileSync(fastDb, fastDatabase(RATE_PVS, hz));
      ioc = await TestIoc.start({ databases: [fastDb] });
      try {
        const names = Array.from({ length: RATE_PVS }, (_, i) => ioc.pv(`r:${i}`));
        await compareRates(ioc.clientEnv, names, clients);
      } finally {
        await ioc.stop();
      }
    }

    console.log(
      `\n4. Stream server (fake CA server in its own process): ${thousands(RATE_PVS)} PVs, ${thousands(STREAM_RATE)} updates/s offered in total, ${WINDOW_S} s window`,
    );
    const stream = await startStreamServer(RATE_PVS, STREAM_RATE);
    try {
      const names = Array.from({ length: RATE_PVS }, (_, i) => `STREAM:${i}`);
      await compareRates(stream.env, names, clients);
    } finally {
      await stream.stop();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
