/**
 * The disk spool's benchmark: what `--spool-dir` costs under normal load, how fast the forwarder writes the spool
 * while Kafka is away, and how fast it replays the backlog once Kafka is back, with the load still on. Everything
 * runs on this machine, on loopback: the real Kafka broker of the tests (stopped and started again, its data
 * kept), the compiled forwarder, and the load of bench/forwarder.ts (PVA from the stream server, CA from the IOC),
 * by default 10,000 PVs x 10 Hz.
 *
 * Per protocol and run (runs alternate, so the machine's noise shows as ranges):
 *   1. baseline: the forwarder without a spool, the load for a window (bench/forwarder/steps.ts);
 *   2. the same with --spool-dir (a fresh directory in the system's temporary directory, deleted after);
 *   3. with --spool-dir: Kafka stopped for a window, the load on: the spool's write rate (appended/s from the
 *      forwarder's /metrics) against the rate the source served, CPU and RSS;
 *   4. Kafka started again, the load still on: the replay rate while the backlog drains (at most --drain-limit
 *      seconds), the waiting count over time, the time to drain, CPU and RSS, the messages librdkafka held (near
 *      its queue's size when Kafka, not the forwarder, was the limit), and the ratio of replay rate to write rate;
 *      then, the load off, the rate at which what is left drains (the replay with the forwarder to itself);
 *   5. everything drained: the data topic read back and compared per PV with what the source served.
 * During 4 and 4b the CPU budget (bench/forwarder/cpu.ts): the cores used by the forwarder's main thread,
 * librdkafka's threads and its other threads, by the broker's JVM, the source, the benchmark process, the rest of
 * the machine (other work), the machine's busy, iowait, steal (the hypervisor's) and idle time, and how long the
 * forwarder's main thread was ready to run but waited for a core.
 *
 * Steps: `--hz` and `--pvs` take lists (e.g. `--hz 2,4,6,8,10`); with more than one step, each step runs 3-5 only
 * (as with --outage-only), and a last table gives replay/write per live rate.
 *
 * Usage: npm run bench:spool [-- --protocol ca|pva] [--runs N] [--pvs N] [--hz R] [--seconds S]
 *        [--outage-seconds S] [--drain-limit S] [--spool-max-bytes B] [--kafka-config NAME=VALUE]
 *        [--node-option OPTION] [--cpu-prof DIR] [--outage-only] [--launch sources]
 *
 * Every message goes to the spool, whether Kafka takes it at once or not, so appended/s is the write rate at all
 * times. While Kafka is away, librdkafka's own queue (queue.buffering.max.messages, 100,000 by default) takes the
 * first messages ("librdkafka's queue took"); the rest wait in the spool, as does every message appended while any
 * waits, and only those are replayed. `--kafka-config queue.buffering.max.messages=N` changes that queue.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import { clientConfig } from '../test/support/kafka.js';
import { fixed, loadAverage, progress, thousands } from './format.js';
import { MAX_RATE_HZ } from './load-ioc.js';
import { type CpuReading, coresBetween } from './forwarder/cpu.js';
import { build } from './forwarder/launch.js';
import { type OutageResult, type OutageSample, outageStep } from './forwarder/outage.js';
import { describeMachine } from './forwarder/report.js';
import type { BenchSettings, EpicsProtocolName, Step } from './forwarder/settings.js';
import { forwarderStep, type StepResult } from './forwarder/steps.js';

const { values: cli } = parseArgs({
  options: {
    protocol: { type: 'string', multiple: true },
    runs: { type: 'string', default: '2' },
    pvs: { type: 'string', default: '10000' },
    hz: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '15' },
    'outage-seconds': { type: 'string', default: '20' },
    'drain-limit': { type: 'string', default: '60' },
    'spool-max-bytes': { type: 'string', default: '4G' },
    'kafka-config': { type: 'string', multiple: true },
    'node-option': { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    'outage-only': { type: 'boolean', default: false },
    launch: { type: 'string', default: 'build' },
  },
});

const protocols = (cli.protocol ?? ['ca', 'pva']) as EpicsProtocolName[];
const runs = Number(cli.runs);
const list = (text: string): number[] => text.split(',').map(Number);
const steps: Step[] = list(cli.pvs).flatMap((pvs) => list(cli.hz).map((hz) => ({ pvs, hz, spread: false })));
const stepped = steps.length > 1;
// The IOC makes rateHz / 10 passes per 0.1 s scan (bench/load-ioc.ts): say so before the broker starts.
if (
  protocols.includes('ca') &&
  steps.some((step) => step.hz % 10 !== 0 || step.hz < 10 || step.hz > MAX_RATE_HZ)
) {
  throw new Error(
    `CA steps come from the IOC, at multiples of 10 Hz up to ${MAX_RATE_HZ}: vary --pvs instead`,
  );
}
const outageOnly = cli['outage-only'] || stepped;
const offeredBy = (step: Step): number => step.pvs * step.hz;
const stepName = (step: Step): string => `${thousands(step.pvs)} PVs x ${step.hz} Hz`;
const windows = {
  leadS: 5,
  outageS: Number(cli['outage-seconds']),
  tailS: 2,
  drainLimitS: Number(cli['drain-limit']),
};
/** The forwarder's targets while spooling: the updates it keeps up with, and replay over write. */
const TARGET_RATE = 100_000;
const TARGET_REPLAY_RATIO = 2;

/** The run's settings for one protocol: PVA from the stream server, CA from the IOC. */
function settingsFor(protocol: EpicsProtocolName, step: Step): BenchSettings {
  return {
    source: protocol === 'pva' ? 'stream' : 'ioc',
    launch: cli.launch === 'sources' ? 'sources' : 'build',
    protocols: [protocol],
    steps: [step],
    windowS: Number(cli.seconds),
    kafkaConfig: cli['kafka-config'] ?? [],
    nodeOptions: cli['node-option'] ?? [],
    cpuProfile: cli['cpu-prof'],
    heapSnapshot: undefined,
    memoryDetail: false,
    forwarderOutput: undefined,
    latencyTrace: undefined,
  };
}

/** Runs `body` with the settings of a forwarder that spools into a fresh directory, deleted after. */
async function withSpool<T>(
  settings: BenchSettings,
  body: (spooled: BenchSettings) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-spool-'));
  try {
    return await body({
      ...settings,
      forwarderArgs: ['--spool-dir', dir, '--spool-max-bytes', cli['spool-max-bytes']],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RunResult {
  readonly step: Step;
  readonly baseline: StepResult | undefined;
  readonly spooled: StepResult | undefined;
  readonly outage: OutageResult;
}

/** The figures of phases 3 and 4, derived from the samples. */
interface OutageFigures {
  readonly downS: number;
  readonly writeRate: number;
  readonly servedRate: number;
  readonly writeCpuPer100k: number;
  readonly writeRssMb: number;
  readonly waitingAtStart: number;
  /** Messages handed to librdkafka while Kafka was away (its queue took them). */
  readonly takenByQueue: number;
  readonly spoolBytes: number;
  readonly kafkaStartS: number;
  /** From asking Kafka to start until the first sample that saw a replay. */
  readonly replayStartS: number;
  readonly replayRate: number;
  readonly liveRate: number;
  readonly deliveredRate: number;
  readonly drainS: number;
  readonly replayCores: number;
  readonly replayCpuPer100k: number;
  readonly replayRssMb: number;
  /** Messages librdkafka held, on average over the replay: near its queue's size when Kafka was the limit. */
  readonly replayKafkaHeld: number;
  /** The backlog left when the load went off, its replay rate then, and the forwarder's cores meanwhile. */
  readonly leftAtLoadOff: number;
  readonly replayRateWithoutLoad: number;
  readonly replayCoresWithoutLoad: number;
  /** Cores used during the replay with the load on, and with the load off, by process and thread. */
  readonly budgetLoadOn: Record<keyof CpuReading, number> | undefined;
  readonly budgetLoadOff: Record<keyof CpuReading, number> | undefined;
}

const rate = (from: OutageSample, to: OutageSample, field: keyof OutageSample): number =>
  ((to[field] as number) - (from[field] as number)) / (to.t - from.t);

function outageFigures(result: OutageResult): OutageFigures {
  const { samples, marks } = result;
  const { down, starting, up, firstReplay, drained, replayEnd, loadOff, drainedWithoutLoad: offEnd } = marks;
  const appendedWhileDown = starting.appended - down.appended;
  const whileDown = samples.filter((s) => s.t >= down.t && s.t <= starting.t);
  // The replay ran from the sample before the first one that saw it, until the backlog was gone (or the limit).
  const replayFrom = firstReplay === undefined ? undefined : samples[samples.indexOf(firstReplay) - 1];
  const replaying =
    replayFrom === undefined ? [] : samples.filter((s) => s.t >= replayFrom.t && s.t <= replayEnd.t);
  const from = replaying[0];
  const to = replaying.at(-1);
  const replayS = from && to ? to.t - from.t : NaN;
  // Kafka's end offset is read only while it serves: the delivered rate over the samples that have it.
  const offsets = replaying.filter((s) => Number.isFinite(s.endOffset));
  const firstOffset = offsets[0];
  const lastOffset = offsets.at(-1);
  // Without the load, only a backlog of a few seconds' replay gives a rate worth printing.
  const offDrain = loadOff.waiting >= 100_000 && offEnd.t - loadOff.t >= 1 ? offEnd : undefined;
  const budget = (start: OutageSample | undefined, end: OutageSample | undefined) =>
    start && end && end.t - start.t >= 1 ? coresBetween(start.cpu, end.cpu, end.t - start.t) : undefined;
  return {
    downS: starting.t - down.t,
    writeRate: rate(down, starting, 'appended'),
    servedRate: result.servedWhileDown / (starting.t - down.t),
    writeCpuPer100k: ((starting.cpuS - down.cpuS) * 100_000) / appendedWhileDown,
    writeRssMb: Math.max(...whileDown.map((s) => s.rssMb)),
    waitingAtStart: starting.waiting,
    takenByQueue: appendedWhileDown - (starting.waiting - down.waiting),
    spoolBytes: Math.max(...samples.map((s) => s.spoolBytes)),
    kafkaStartS: up.t - starting.t,
    replayStartS: firstReplay ? firstReplay.t - starting.t : NaN,
    replayRate: from && to ? rate(from, to, 'replayed') : NaN,
    liveRate: from && to ? rate(from, to, 'appended') : NaN,
    deliveredRate:
      firstOffset && lastOffset && lastOffset !== firstOffset
        ? rate(firstOffset, lastOffset, 'endOffset')
        : NaN,
    drainS: drained ? drained.t - up.t : NaN,
    replayCores: from && to ? (to.cpuS - from.cpuS) / replayS : NaN,
    replayCpuPer100k: from && to ? ((to.cpuS - from.cpuS) * 100_000) / (to.replayed - from.replayed) : NaN,
    replayRssMb: Math.max(...replaying.map((s) => s.rssMb)),
    replayKafkaHeld: replaying.reduce((sum, s) => sum + s.kafkaHeld, 0) / replaying.length,
    leftAtLoadOff: loadOff.waiting,
    replayRateWithoutLoad: offDrain ? rate(loadOff, offDrain, 'replayed') : NaN,
    replayCoresWithoutLoad: offDrain ? rate(loadOff, offDrain, 'cpuS') : NaN,
    budgetLoadOn: budget(from, to),
    budgetLoadOff: budget(loadOff, offEnd),
  };
}

/** How much of the time tasks waited for a core (Linux PSI), since the machine is shared: "avg10/avg60 %". */
function cpuPressure(): string {
  try {
    const some = /^some avg10=(\S+) avg60=(\S+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return some ? `${some[1]}/${some[2]} %` : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `values` as one figure or a range, min–max. */
function span(values: readonly number[], format: (value: number) => string): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '-';
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  return format(low) === format(high) ? format(low) : `${format(low)}–${format(high)}`;
}

const digits =
  (count: number) =>
  (value: number): string =>
    fixed(value, count);

/** Rows of a table: a label, then each column's text, padded to its heading. */
function table(headings: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headings.map((heading, i) =>
    Math.max(heading.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(headings), ...rows.map(line)];
}

function printProtocol(protocol: EpicsProtocolName, step: Step, results: readonly RunResult[]): string[] {
  const source = protocol === 'pva' ? 'the PVA stream server' : 'one IOC';
  console.log(
    `\n${protocol.toUpperCase()}: ${stepName(step)} (${thousands(offeredBy(step))} updates/s offered) from ${source}, ${results.length} run(s), ranges over the runs`,
  );
  const normal = (label: string, pick: (r: RunResult) => StepResult | undefined): string[] => {
    const steps = results.map(pick).filter((r): r is StepResult => r !== undefined);
    const column = (value: (r: StepResult) => number, format: (value: number) => string): string =>
      span(steps.map(value), format);
    return [
      label,
      column((r) => r.forwarded / r.forwardS, thousands),
      column((r) => r.lost, thousands),
      column((r) => r.duplicated, thousands),
      column((r) => (r.cpuS * 100_000) / Math.max(r.forwarded, 1), digits(2)),
      `${column((r) => r.rssLoadMb, digits(0))}/${column((r) => r.peakMb, digits(0))}`,
    ];
  };
  if (!outageOnly) {
    for (const line of table(
      [`  normal load, ${cli.seconds} s`, 'forwarded/s', 'lost', 'dup', 'CPU s/100k', 'RSS load/peak MB'],
      [normal('  1. without a spool', (r) => r.baseline), normal('  2. with --spool-dir', (r) => r.spooled)],
    ))
      console.log(line);
  }
  const figures = results.map((r) => outageFigures(r.outage));
  const of = (pick: (f: OutageFigures) => number, format: (value: number) => string): string =>
    span(figures.map(pick), format);
  for (const line of table(
    [
      `  3. Kafka away, ${windows.outageS} s`,
      'appended/s',
      'served/s',
      'CPU s/100k',
      'RSS max MB',
      'waiting at the end',
      "librdkafka's queue took",
      'spool MB',
    ],
    [
      [
        '',
        of((f) => f.writeRate, thousands),
        of((f) => f.servedRate, thousands),
        of((f) => f.writeCpuPer100k, digits(2)),
        of((f) => f.writeRssMb, digits(0)),
        of((f) => f.waitingAtStart, thousands),
        of((f) => f.takenByQueue, thousands),
        of((f) => f.spoolBytes / 2 ** 20, digits(0)),
      ],
    ],
  ))
    console.log(line);
  for (const line of table(
    [
      '  4. Kafka back, load on',
      'Kafka start s',
      'replay from s',
      'replayed/s',
      'live/s',
      'delivered/s',
      'drained after s',
      'CPU cores',
      'CPU s/100k',
      'RSS max MB',
      'librdkafka held',
      'replay/write',
    ],
    [
      [
        '',
        of((f) => f.kafkaStartS, digits(1)),
        of((f) => f.replayStartS, digits(1)),
        of((f) => f.replayRate, thousands),
        of((f) => f.liveRate, thousands),
        of((f) => f.deliveredRate, thousands),
        of((f) => f.drainS, digits(1)),
        of((f) => f.replayCores, digits(2)),
        of((f) => f.replayCpuPer100k, digits(2)),
        of((f) => f.replayRssMb, digits(0)),
        of((f) => f.replayKafkaHeld, thousands),
        of((f) => f.replayRate / f.writeRate, digits(2)),
      ],
    ],
  ))
    console.log(line);
  for (const line of table(
    [
      '  4b. load off, the rest drains',
      'waiting at load off',
      'replayed/s',
      'CPU cores',
      'fwd main µs/record',
      'replay/write',
    ],
    [
      [
        '',
        of((f) => f.leftAtLoadOff, thousands),
        of((f) => f.replayRateWithoutLoad, thousands),
        of((f) => f.replayCoresWithoutLoad, digits(2)),
        of((f) => ((f.budgetLoadOff?.forwarderMain ?? NaN) / f.replayRateWithoutLoad) * 1e6, digits(2)),
        of((f) => f.replayRateWithoutLoad / f.writeRate, digits(2)),
      ],
    ],
  ))
    console.log(line);
  printBudget(figures);
  const outages = results.map((r) => r.outage);
  const read = (value: (r: OutageResult) => number): string => span(outages.map(value), thousands);
  for (const line of table(
    [
      '  5. read back, steps 3-4',
      'served',
      'forwarded',
      'lost',
      'dup',
      'spool: appended - on Kafka',
      'dropped',
      'clean stop',
    ],
    [
      [
        '',
        read((r) => r.served),
        read((r) => r.forwarded),
        read((r) => r.lost),
        read((r) => r.duplicated),
        read((r) => r.appendedNotOnKafka),
        read((r) => r.spoolDropped),
        outages.every((r) => r.cleanStop) ? 'yes' : 'no',
      ],
    ],
  ))
    console.log(line);
  console.log('  waiting messages (thousands) every 2 s from Kafka stopped until drained:');
  for (const [i, r] of outages.entries()) {
    const trace = r.samples
      .filter((s, j, all) => j === 0 || Math.floor(s.t / 2) > Math.floor((all[j - 1] as OutageSample).t / 2))
      .map((s) => fixed(s.waiting / 1000, 0))
      .join(' ');
    console.log(`    run ${i + 1}: ${trace}`);
  }
  return summarise(protocol, step, results, figures);
}

/** The cores each process (the forwarder by thread) used during the replay, with the load on and off. */
function printBudget(figures: readonly OutageFigures[]): void {
  const columns: readonly [string, keyof CpuReading][] = [
    ['fwd main', 'forwarderMain'],
    ['fwd librdkafka', 'forwarderKafka'],
    ['fwd other threads', 'forwarderOther'],
    ['broker JVM', 'broker'],
    ['source', 'source'],
    ['bench', 'bench'],
  ];
  const row = (label: string, pick: (f: OutageFigures) => Record<keyof CpuReading, number> | undefined) => {
    const budgets = figures.map(pick);
    const of = (value: (b: Record<keyof CpuReading, number>) => number): string =>
      span(
        budgets.map((b) => (b === undefined ? NaN : value(b))),
        digits(2),
      );
    const named = (b: Record<keyof CpuReading, number>): number =>
      columns.reduce((sum, [, field]) => sum + b[field], 0);
    return [
      label,
      ...columns.map(([, field]) => of((b) => b[field])),
      of((b) => b.machineBusy - named(b)),
      of((b) => b.machineBusy),
      of((b) => b.machineIowait),
      of((b) => b.machineSteal),
      of((b) => b.machineTotal - b.machineBusy - b.machineIowait - b.machineSteal),
      of((b) => b.forwarderMainWaiting),
    ];
  };
  for (const line of table(
    [
      `  CPU budget, cores of ${span(
        figures.map((f) => f.budgetLoadOn?.machineTotal ?? NaN),
        digits(1),
      )}`,
      ...columns.map(([heading]) => heading),
      'rest',
      'machine busy',
      'iowait',
      'steal',
      'idle',
      'fwd main waiting for a core',
    ],
    [
      row('  4. replay, load on', (f) => f.budgetLoadOn),
      row('  4b. replay, load off', (f) => f.budgetLoadOff),
    ],
  ))
    console.log(line);
}

/** The summary lines of a protocol: each run's ratios against its own baseline, and the targets. */
function summarise(
  protocol: EpicsProtocolName,
  step: Step,
  results: readonly RunResult[],
  figures: readonly OutageFigures[],
): string[] {
  const name = `${protocol.toUpperCase()}${stepped ? ` ${stepName(step)}` : ''}`;
  const offered = offeredBy(step);
  const lines: string[] = [];
  const paired = results.flatMap((r, i) =>
    r.baseline && r.spooled
      ? [{ baseline: r.baseline, spooled: r.spooled, outage: figures[i] as OutageFigures }]
      : [],
  );
  const perUpdate = (r: StepResult): number => r.cpuS / Math.max(r.forwarded, 1);
  if (paired.length > 0) {
    lines.push(
      `${name}: with --spool-dir, forwarded/s ${span(
        paired.map(
          (p) => p.spooled.forwarded / p.spooled.forwardS / (p.baseline.forwarded / p.baseline.forwardS),
        ),
        digits(2),
      )} of the baseline, CPU per update ${span(
        paired.map((p) => perUpdate(p.spooled) / perUpdate(p.baseline)),
        digits(2),
      )} times, RSS under load ${span(
        paired.map((p) => p.spooled.rssLoadMb - p.baseline.rssLoadMb),
        digits(0),
      )} MB more`,
      `${name}: Kafka away, CPU per update ${span(
        paired.map((p) => p.outage.writeCpuPer100k / 100_000 / perUpdate(p.baseline)),
        digits(2),
      )} times the baseline's, RSS ${span(
        paired.map((p) => p.outage.writeRssMb - p.baseline.rssLoadMb),
        digits(0),
      )} MB more`,
    );
  }
  const writeRates = figures.map((f) => f.writeRate);
  const ratios = figures.map((f) => f.replayRate / f.writeRate);
  // Kept up: the spool took (within 2 %) what the source served, at the target's load.
  const kept = offered >= TARGET_RATE && figures.every((f) => f.writeRate >= 0.98 * f.servedRate);
  lines.push(
    `${name}: spool written at ${span(writeRates, thousands)}/s while Kafka was away, the source serving ${span(
      figures.map((f) => f.servedRate),
      thousands,
    )}/s: ${kept ? 'keeps up' : 'does NOT keep up'} (target: ${thousands(TARGET_RATE)}/s offered, ${thousands(offered)}/s here)`,
    `${name}: replayed at ${span(
      figures.map((f) => f.replayRate),
      thousands,
    )}/s, ${span(ratios, digits(2))} times the write rate: target ≥ ${TARGET_REPLAY_RATIO} ${
      ratios.every((ratio) => ratio >= TARGET_REPLAY_RATIO) ? 'met' : 'NOT met'
    }; drained ${span(
      figures.map((f) => f.drainS),
      digits(1),
    )} s after Kafka was back; with the load off, replayed at ${span(
      figures.map((f) => f.replayRateWithoutLoad),
      thousands,
    )}/s (${span(
      figures.map((f) => f.replayRateWithoutLoad / f.writeRate),
      digits(2),
    )} times the write rate)`,
    `${name}: read back, lost ${span(
      results.map((r) => r.outage.lost),
      thousands,
    )}, duplicated ${span(
      results.map((r) => r.outage.duplicated),
      thousands,
    )}`,
  );
  return lines;
}

function command(protocol: EpicsProtocolName): string {
  const options = [
    `--protocol ${protocol}`,
    `--runs ${runs}`,
    `--pvs ${cli.pvs}`,
    `--hz ${cli.hz}`,
    `--seconds ${cli.seconds}`,
    `--outage-seconds ${windows.outageS}`,
    `--drain-limit ${windows.drainLimitS}`,
    ...(cli['kafka-config'] ?? []).map((property) => `--kafka-config ${property}`),
    ...(cli['outage-only'] && !stepped ? ['--outage-only'] : []),
  ];
  return `scripts/run npx tsx bench/spool.ts ${options.join(' ')}`;
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-spool-run-'));
  console.log(`Disk spool benchmark — ${describeMachine()}`);
  console.log(
    `load average at start: ${loadAverage()}, CPU pressure (tasks waiting for a core, avg10/avg60) ${cpuPressure()}; normal window ${cli.seconds} s, Kafka away ${windows.outageS} s, ${runs} run(s)`,
  );
  if (cli.launch !== 'sources') build();
  progress('starting the Kafka broker');
  const broker = await TestKafkaBroker.start();
  const kafkaConfig = clientConfig(broker.info, { listener: 'PLAINTEXT' });
  const address = broker.info.listeners.PLAINTEXT;
  const results = new Map<EpicsProtocolName, RunResult[]>(protocols.map((protocol) => [protocol, []]));
  try {
    for (let run = 1; run <= runs; run++) {
      for (const protocol of protocols) {
        for (const step of steps) {
          await runStep(run, protocol, step);
        }
      }
    }
    const summary: string[] = [];
    for (const [protocol, runResults] of results) {
      for (const step of steps) {
        summary.push(
          ...printProtocol(
            protocol,
            step,
            runResults.filter((r) => r.step === step),
          ),
        );
      }
      if (stepped) printSteps(protocol, runResults);
    }
    console.log('\nSummary');
    for (const line of summary) console.log(`  ${line}`);
    console.log('reproduce:');
    for (const protocol of protocols) console.log(`  ${command(protocol)}`);
    console.log(`load average at end: ${loadAverage()}, CPU pressure ${cpuPressure()}`);
  } finally {
    await broker.destroy();
    rmSync(directory, { recursive: true, force: true });
  }

  async function runStep(run: number, protocol: EpicsProtocolName, step: Step): Promise<void> {
    const settings = settingsFor(protocol, step);
    const label = `run ${run}, ${protocol}${stepped ? `, ${stepName(step)}` : ''}`;
    let baseline: StepResult | undefined;
    let spooled: StepResult | undefined;
    if (!outageOnly) {
      progress(`${label}: 1. without a spool`);
      baseline = await forwarderStep(settings, kafkaConfig, address, protocol, step, directory);
      progress(`${label}: 2. with --spool-dir`);
      spooled = await withSpool(settings, (spooling) =>
        forwarderStep(spooling, kafkaConfig, address, protocol, step, directory),
      );
    }
    progress(`${label}: 3-5. Kafka away and back`);
    const outage = await withSpool(settings, (spooling) =>
      outageStep(spooling, broker, kafkaConfig, protocol, step, windows, directory),
    );
    results.get(protocol)?.push({ step, baseline, spooled, outage });
  }
}

/** Per step (live rate), over the runs: the replay against the write rate, and the main thread's load. */
function printSteps(protocol: EpicsProtocolName, results: readonly RunResult[]): void {
  console.log(`\n${protocol.toUpperCase()}: replay with the load on, per live rate, ranges over the runs`);
  const rows = steps.map((step) => {
    const figures = results.filter((r) => r.step === step).map((r) => outageFigures(r.outage));
    const of = (pick: (f: OutageFigures) => number, format: (value: number) => string): string =>
      span(figures.map(pick), format);
    return [
      `  ${stepName(step)}`,
      thousands(offeredBy(step)),
      of((f) => f.writeRate, thousands),
      of((f) => f.replayRate, thousands),
      of((f) => f.replayRate / f.writeRate, digits(2)),
      of((f) => f.drainS, digits(1)),
      of((f) => f.budgetLoadOn?.forwarderMain ?? NaN, digits(2)),
      of((f) => f.budgetLoadOn?.machineBusy ?? NaN, digits(2)),
      figures.every((f) => f.replayRate >= TARGET_REPLAY_RATIO * f.writeRate) ? 'yes' : 'no',
    ];
  });
  for (const line of table(
    [
      '  step',
      'offered/s',
      'appended/s',
      'replayed/s',
      'replay/write',
      'drained after s',
      'fwd main cores',
      'machine busy cores',
      `≥ ${TARGET_REPLAY_RATIO}`,
    ],
    rows,
  ))
    console.log(line);
}

await main();
