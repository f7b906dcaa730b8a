/**
 * End-to-end forwarder benchmark: a real IOC (EPICS base softIoc from pvxslibs, CA and PVA) serving N counting
 * PVs that change at R Hz, the real Kafka broker, and forwarder-launch (from the sources, as the tests run it)
 * forwarding them as f144 (plus al00 and ep01) over CA or PVA. Everything on loopback.
 *
 * Per (protocol, N, R) step: the streams are stored in the storage topic before the forwarder starts, so it
 * restores them at start-up; the time until every PV has a value in Kafka is the connect time. Then the IOC's
 * gate record runs the load for a window; afterwards the data topic (created with LogAppendTime) is read back
 * from the start. Each record counts its own processings, so the IOC's final values say exactly what it served;
 * Kafka says what was forwarded (loss = served − forwarded, per PV), and the broker's append time minus the
 * EPICS timestamp is the latency. CPU comes from /proc/<pid>/stat of the forwarder, memory from /proc/<pid>/status.
 *
 * Ceilings in the same run: (a) our KafkaProducer alone sending pre-serialised f144 messages of the same sizes
 * (and librdkafka with a delivery report for every message, to show their cost); (b) our EPICS client alone receiving the same
 * IOC load. The forwarder's throughput is reported as a fraction of min(a, b).
 *
 * Usage: tsx bench/forwarder.ts [--quick] [--protocol ca|pva] [--steps 1000x10,1000x100] [--seconds 5]
 *        [--no-ceilings] [--no-latency-step] [--only-ceilings] [--launch build|sources]
 *
 * --launch build (the default) runs `npm run build` once and then bin/forwarder-launch (the compiled dist/, as
 * deployed); --launch sources runs src/cli/forwarder-launch.ts through tsx, as the tests do (more memory).
 * --cpu-prof DIR: the forwarder writes a V8 CPU profile per step into DIR (node --cpu-prof; open in Chrome
 * DevTools or speedscope). --heap-snapshot DIR: a V8 heap snapshot of the forwarder once every PV is connected,
 * before the load. --kafka-config NAME=VALUE (repeatable) is handed to forwarder-launch. --memory-detail: where the
 * forwarder's resident memory is, once connected and at the end of the window (V8 heap from its /metrics, the rest
 * from /proc/<pid>/smaps). --node-option OPTION (repeatable): a Node or V8 option for the compiled forwarder's node
 * (--node-option=--max-semi-space-size=8). --forwarder-output FILE: the forwarder's stdout and stderr of the last
 * step (with --node-option=--trace-gc, its garbage collections). --latency-trace FILE: the last step's latency over
 * time, per 5 ms of EPICS time from the load's first update (CSV: ms, updates, p50, p99, max). --source stream: the load comes from the PVA
 * stream server (test/support/pva-stream-server.ts, PVA only) instead of the IOC: N PVs, N × R updates/s in
 * total, round-robin and paced every 5 ms, each PV's value counting its updates; it needs far less CPU than QSRV.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CaClient } from '../src/epics/ca/client.js';
import { PvaClient } from '../src/epics/pva/client.js';
import type { PvUpdate } from '../src/model/update.js';
import { KafkaProducer, PRODUCER_DEFAULTS } from '../src/kafka/producer.js';
import { silentLogger } from '../src/logging/logger.js';
import { deserialiseF144, Protocol, serialiseF144, serialiseFc00, UpdateType } from '../src/schemas/index.js';
import { caPut } from '../test/support/ca-recorder.js';
import { launcherNodeOptions, unitEnvironment } from '../test/support/deployment.js';
import { ForwarderProcess } from '../test/support/forwarder.js';
import { repoRoot } from '../test/support/paths.js';
import { startLineChild } from '../test/support/line-child.js';
import { freePort } from '../test/support/ports.js';
import { TestIoc } from '../test/support/ioc.js';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import { clientConfig, kafka, produceMessages, uniqueTopic } from '../test/support/kafka.js';
import { countingDatabase, counterName, GATE } from './load-ioc.js';

type EpicsProtocolName = 'ca' | 'pva';

interface Step {
  readonly pvs: number;
  readonly hz: number;
  /** The IOC spreads each pass over its slot of the scan period (a smooth load) instead of running it at once. */
  readonly spread: boolean;
}

const { values: cli } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    protocol: { type: 'string', multiple: true },
    steps: { type: 'string' },
    seconds: { type: 'string' },
    'no-ceilings': { type: 'boolean', default: false },
    'no-latency-step': { type: 'boolean', default: false },
    'only-ceilings': { type: 'boolean', default: false },
    launch: { type: 'string', default: 'build' },
    'cpu-prof': { type: 'string' },
    'kafka-config': { type: 'string', multiple: true },
    'heap-snapshot': { type: 'string' },
    'memory-detail': { type: 'boolean', default: false },
    'node-option': { type: 'string', multiple: true },
    'forwarder-output': { type: 'string' },
    'latency-trace': { type: 'string' },
    spread: { type: 'boolean', default: false },
    source: { type: 'string', default: 'ioc' },
  },
});
const QUICK = cli.quick;
const SOURCE = cli.source === 'stream' ? 'stream' : 'ioc';
const LAUNCH = cli.launch === 'sources' ? 'sources' : 'build';
const PROTOCOLS = (cli.protocol ?? (SOURCE === 'stream' ? ['pva'] : ['ca', 'pva'])) as EpicsProtocolName[];
const WINDOW_S = Number(cli.seconds ?? (QUICK ? 3 : 5));
const parseSteps = (text: string): Step[] =>
  text.split(',').map((item) => {
    const [pvs, hz] = item.split('x').map(Number);
    return { pvs: pvs ?? 0, hz: hz ?? 0, spread: cli.spread };
  });
const STEPS = parseSteps(
  cli.steps ?? (QUICK ? '1000x10,1000x100' : '1000x10,1000x30,1000x50,1000x100,10000x10,15000x10'),
);
const COMMAND = `scripts/run npx tsx bench/forwarder.ts${LAUNCH === 'sources' ? ' --launch sources' : ''}`;
const CONNECT_DEADLINE_MS = 60_000;
/** The data topic is quiet this long after the load stops: the forwarder has drained. */
const QUIET_MS = 1500;
const CLK_TCK = 100;

const progress = (message: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolveLater) => setTimeout(resolveLater, ms));
const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const thousands = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
const load = (): string =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');

/** user+system CPU seconds of a process, from /proc/<pid>/stat. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS and VmHWM (peak) of a process, MB. */
function processMemoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Resident kB of /proc/<pid>/smaps by kind of mapping: program and library files, thread stacks, the rest. */
function residentByMapping(pid: number): { files: number; stacks: number; anonymous: number } {
  const totals = { files: 0, stacks: 0, anonymous: 0 };
  let kind: keyof typeof totals = 'anonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header !== null) {
      const path = header[1] ?? '';
      kind = path.startsWith('/') ? 'files' : path.startsWith('[stack') ? 'stacks' : 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) totals[kind] += Number(rss[1]);
  }
  return totals;
}

/**
 * RSS split: the V8 heap (used and committed, from the forwarder's /metrics), memory held outside it by
 * JavaScript objects (external: Buffers and typed arrays), mapped files (node, the librdkafka binding and other
 * libraries), and the remaining anonymous memory (malloc: librdkafka's buffers and threads, Node's own).
 */
async function memoryDetail(pid: number, httpPort: number): Promise<string> {
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const metric = (pattern: string): number =>
    Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  const heapUsed = metric('nodejs_heap_bytes\\{kind="used"\\}');
  const heapTotal = metric('nodejs_heap_bytes\\{kind="total"\\}');
  const external = metric('nodejs_external_memory_bytes');
  const { rss } = processMemoryMb(pid);
  const mapped = residentByMapping(pid);
  const files = mapped.files / 1024;
  return (
    `RSS ${fixed(rss, 0)} MB: V8 heap ${fixed(heapUsed, 0)} used / ${fixed(heapTotal, 0)} committed, ` +
    `external ${fixed(external, 0)}, files ${fixed(files, 0)}, stacks ${fixed(mapped.stacks / 1024, 1)}, ` +
    `other anonymous ${fixed(rss - heapTotal - files - mapped.stacks / 1024, 0)} (malloc: librdkafka, Node, external)`
  );
}

const TRACE_BUCKET_MS = 5;

/** Latency per TRACE_BUCKET_MS of EPICS time from `firstEpicsMs`, as CSV lines: where in the load it was late. */
function latencyTrace(
  latencies: readonly number[],
  epicsMs: readonly number[],
  firstEpicsMs: number,
): string {
  const buckets: number[][] = [];
  latencies.forEach((latency, i) => {
    const bucket = Math.floor(((epicsMs[i] as number) - firstEpicsMs) / TRACE_BUCKET_MS);
    (buckets[bucket] ??= []).push(latency);
  });
  const lines = ['ms,updates,p50_ms,p99_ms,max_ms'];
  buckets.forEach((bucket, i) => {
    const sorted = Float64Array.from(bucket).sort();
    lines.push(
      `${i * TRACE_BUCKET_MS},${sorted.length},${percentile(sorted, 0.5)},${percentile(sorted, 0.99)},${sorted.at(-1)}`,
    );
  });
  return lines.join('\n') + '\n';
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Low-level consumer of one single-partition topic from offset 0, read in batches. */
class TopicScan {
  private constructor(
    private readonly consumer: RdKafka.KafkaConsumer,
    private readonly topic: string,
  ) {}

  static async open(config: Record<string, string>, topic: string): Promise<TopicScan> {
    const consumer = new rdkafka.KafkaConsumer(
      { ...config, 'group.id': `bench-${Math.random().toString(36).slice(2)}`, 'enable.auto.commit': false },
      {},
    );
    await new Promise<void>((resolveConnect, rejectConnect) =>
      consumer.connect({ timeout: 20_000 }, (error) => (error ? rejectConnect(error) : resolveConnect())),
    );
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    consumer.setDefaultConsumeTimeout(100);
    return new TopicScan(consumer, topic);
  }

  async batch(): Promise<RdKafka.Message[]> {
    return new Promise((resolveBatch, rejectBatch) =>
      this.consumer.consume(20_000, (error, messages) =>
        error ? rejectBatch(error) : resolveBatch(messages),
      ),
    );
  }

  async endOffset(): Promise<number> {
    return new Promise((resolveEnd, rejectEnd) =>
      this.consumer.queryWatermarkOffsets(this.topic, 0, 5_000, (error, offsets) =>
        error ? rejectEnd(error) : resolveEnd(offsets.highOffset),
      ),
    );
  }

  /** Reads on from the consumer's position up to the current end offset. */
  async readAll(onMessage: (message: RdKafka.Message) => void): Promise<void> {
    const end = await this.endOffset();
    let next = 0;
    while (next < end) {
      for (const message of await this.batch()) {
        onMessage(message);
        next = message.offset + 1;
      }
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolveClose) => this.consumer.disconnect(() => resolveClose()));
  }
}

/** What the benchmark needs of a running forwarder-launch. */
interface RunningForwarder {
  readonly child: ChildProcess;
  readonly output: string;
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<unknown>;
}

/**
 * bin/forwarder-launch (the compiled dist/) as deploy/forwarder.service runs it (its Node options and its
 * Environment=), output kept for error messages. --node-option comes after, so it can override them.
 */
function startCompiledForwarder(args: readonly string[], env: Record<string, string>): RunningForwarder {
  const profile = [
    ...(launcherNodeOptions()?.split(' ') ?? []),
    ...(cli['node-option'] ?? []),
    ...(cli['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cli['cpu-prof']]),
    ...(cli['heap-snapshot'] === undefined
      ? []
      : ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir', cli['heap-snapshot']]),
  ];
  const child = spawn(process.execPath, [...profile, join(repoRoot, 'bin', 'forwarder-launch'), ...args], {
    cwd: repoRoot,
    // The caller's environment wins (MALLOC_ARENA_MAX=16 is glibc's default on two cores).
    env: { ...unitEnvironment(), ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => void (output += chunk.toString());
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  return {
    child,
    get output() {
      return output;
    },
    async stop(signal, timeoutMs) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function startForwarder(args: readonly string[], env: Record<string, string>): RunningForwarder {
  return LAUNCH === 'sources' ? ForwarderProcess.start(args, env) : startCompiledForwarder(args, env);
}

/** npm run build: compiles src/ to dist/ for bin/forwarder-launch. */
function build(): void {
  progress('npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    // tsc still emits when some file has a type error; say so, and go on with what it emitted.
    progress(
      `npm run build exited with ${result.status}:\n${result.stdout.toString()}${result.stderr.toString()}`,
    );
  }
}

const identifierOf = (payload: Buffer): string => payload.toString('latin1', 4, 8);

async function createTopic(
  config: Record<string, string>,
  topic: string,
  entries: Record<string, string> = {},
): Promise<void> {
  const admin = kafka(config).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Where the load comes from: the IOC's counting records, or (--source stream) a paced PVA stream server. */
interface LoadSource {
  /** The process that serves the load, for its CPU time. */
  readonly pid: number;
  readonly names: readonly string[];
  readonly clientEnv: Record<string, string>;
  setLoad(on: boolean): Promise<void>;
  /** Every PV's counter now: 1 before the load, one more per update served. */
  counts(): Promise<Float64Array>;
}

async function withSource<T>(
  protocol: EpicsProtocolName,
  step: Step,
  directory: string,
  body: (source: LoadSource) => Promise<T>,
): Promise<T> {
  return SOURCE === 'stream' ? withStreamServer(protocol, step, body) : withIoc(step, directory, body);
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
  const searchPort = await freePort();
  const prefix = `BENCH${process.pid}:`;
  const server = await startLineChild(join(repoRoot, 'test', 'support', 'pva-stream-server.ts'), [
    String(searchPort),
    String(step.pvs),
    prefix,
  ]);
  const expect = async (line: string, answer: string): Promise<string> => {
    const reply = await server.request(line);
    if (!reply.startsWith(answer)) throw new Error(`stream server answered ${line} with: ${reply}`);
    return reply;
  };
  try {
    if (!server.ready.startsWith('READY')) throw new Error(`stream server: ${server.ready}`);
    return await body({
      pid: server.child.pid as number,
      names: Array.from({ length: step.pvs }, (_, i) => `${prefix}${i}`),
      clientEnv: { EPICS_PVA_AUTO_ADDR_LIST: 'NO', EPICS_PVA_ADDR_LIST: `127.0.0.1:${searchPort}` },
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

const scalarOf = (update: PvUpdate): number =>
  update.value.kind === 'scalar' ? Number(update.value.value) : Number.NaN;

interface StepResult {
  protocol: EpicsProtocolName;
  step: Step;
  connectS: number;
  /** Updates the IOC made in the load window (counter increments). */
  served: number;
  /** f144 messages of load updates in Kafka. */
  forwarded: number;
  lost: number;
  duplicated: number;
  /** Span of the served updates' EPICS timestamps (s). */
  loadS: number;
  /** From the first served update's EPICS time to the last append time (s): includes any backlog drained. */
  forwardS: number;
  cpuS: number;
  /** CPU the load's server (IOC or stream server) used during the window, in cores. */
  sourceCores: number;
  rssIdleMb: number;
  rssLoadMb: number;
  peakMb: number;
  latencyMs: Float64Array;
  /** Latencies of the updates made from the second second of the load on, sorted (the steady state). */
  steadyLatencyMs: Float64Array;
  al00: number;
  ep01: number;
  load: string;
  /** --memory-detail: the RSS split once connected and at the end of the window. */
  memory?: { idle: string; load: string };
}

function streamsCommand(names: readonly string[], topic: string, protocol: EpicsProtocolName): Buffer {
  return Buffer.from(
    serialiseFc00({
      configChange: UpdateType.ADD,
      streams: names.map((channel) => ({
        channel,
        schema: 'f144',
        topic,
        protocol: protocol === 'ca' ? Protocol.CA : Protocol.PVA,
        periodic: 0,
      })),
    }),
  );
}

async function forwarderStep(
  kafkaConfig: Record<string, string>,
  brokerAddress: string,
  protocol: EpicsProtocolName,
  step: Step,
  directory: string,
): Promise<StepResult> {
  return withSource(protocol, step, directory, async (source) => {
    const names = source.names;
    const topics = {
      config: uniqueTopic('bench-commands'),
      status: uniqueTopic('bench-status'),
      storage: uniqueTopic('bench-storage'),
      data: uniqueTopic('bench-data'),
    };
    await createTopic(kafkaConfig, topics.config);
    await createTopic(kafkaConfig, topics.status);
    await createTopic(kafkaConfig, topics.storage, { 'max.message.bytes': '50000000' });
    await createTopic(kafkaConfig, topics.data, { 'message.timestamp.type': 'LogAppendTime' });
    // Above ~10,000 streams the stored set is larger than a producer's default limit of 1 MB.
    await produceMessages({ ...kafkaConfig, 'message.max.bytes': '50000000' }, topics.storage, [
      { value: streamsCommand(names, topics.data, protocol) },
    ]);

    const scan = await TopicScan.open(kafkaConfig, topics.data);
    const httpPort = cli['memory-detail'] ? await freePort() : undefined;
    const started = performance.now();
    const forwarder = startForwarder(
      [
        '--config-topic',
        `${brokerAddress}/${topics.config}`,
        '--status-topic',
        `${brokerAddress}/${topics.status}`,
        '--output-broker',
        brokerAddress,
        '--storage-topic',
        `${brokerAddress}/${topics.storage}`,
        '--verbosity',
        'Warning',
        ...(cli['kafka-config'] ?? []).flatMap((property) => ['--kafka-config', property]),
        ...(httpPort === undefined ? [] : ['--http-address', String(httpPort)]),
      ],
      source.clientEnv,
    );
    try {
      const pid = forwarder.child.pid as number;
      // Connect: every PV's first value in Kafka.
      const seen = new Set<string>();
      // al00 and ep01 messages of the whole step, connect included.
      const kinds = { al00: 0, ep01: 0 };
      const countKind = (identifier: string): void => {
        if (identifier === 'al00') kinds.al00++;
        else if (identifier === 'ep01') kinds.ep01++;
      };
      const deadline = Date.now() + CONNECT_DEADLINE_MS;
      while (seen.size < names.length && Date.now() < deadline) {
        for (const message of await scan.batch()) {
          const payload = message.value;
          if (!payload) continue;
          const identifier = identifierOf(payload);
          countKind(identifier);
          if (identifier === 'f144') seen.add(message.key?.toString() ?? '');
        }
        if (forwarder.child.exitCode !== null) throw new Error(`forwarder exited:\n${forwarder.output}`);
      }
      const connectS = (performance.now() - started) / 1000;
      if (seen.size < names.length)
        progress(`only ${seen.size} of ${names.length} PVs forwarding after 60 s`);
      await sleep(1000);
      const rssIdleMb = processMemoryMb(pid).rss;
      const memoryIdle = httpPort === undefined ? undefined : await memoryDetail(pid, httpPort);
      if (cli['heap-snapshot'] !== undefined) {
        process.kill(pid, 'SIGUSR2');
        await sleep(15_000);
      }

      const cpu0 = processCpuSeconds(pid);
      const sourceCpu0 = processCpuSeconds(source.pid);
      const window0 = performance.now();
      await source.setLoad(true);
      await sleep(WINDOW_S * 1000);
      const sourceCores =
        (processCpuSeconds(source.pid) - sourceCpu0) / ((performance.now() - window0) / 1000);
      const rssLoadMb = processMemoryMb(pid).rss;
      const memoryLoad = httpPort === undefined ? undefined : await memoryDetail(pid, httpPort);
      await source.setLoad(false);
      // Drained when the data topic's end offset stops moving.
      let end = await scan.endOffset();
      let quietSince = performance.now();
      const drainDeadline = performance.now() + 120_000;
      while (performance.now() - quietSince < QUIET_MS && performance.now() < drainDeadline) {
        await sleep(250);
        const now = await scan.endOffset();
        if (now !== end) {
          end = now;
          quietSince = performance.now();
        }
      }
      const cpuS = processCpuSeconds(pid) - cpu0;
      const { peak: peakMb } = processMemoryMb(pid);
      const final = await source.counts();
      await forwarder.stop('SIGTERM', 15_000);

      // Read back: every f144 with a value above 1 is a load update (the counters start at 1).
      const indexOf = new Map(names.map((name, i) => [name, i]));
      const perPv = new Float64Array(names.length);
      const latencies: number[] = [];
      const latencyEpicsMs: number[] = [];
      let firstEpicsMs = Infinity;
      let lastEpicsMs = -Infinity;
      let lastAppendMs = -Infinity;
      await scan.readAll((message) => {
        const payload = message.value;
        if (!payload) return;
        const identifier = identifierOf(payload);
        countKind(identifier);
        if (identifier !== 'f144') return;
        const decoded = deserialiseF144(payload);
        const value = decoded.value.kind === 'scalar' ? Number(decoded.value.value) : NaN;
        const index = indexOf.get(decoded.sourceName);
        if (index === undefined || !(value > 1)) return;
        perPv[index] = (perPv[index] as number) + 1;
        const epicsMs = Number(decoded.timestampNs / 1_000_000n);
        const appendMs = message.timestamp ?? NaN;
        latencies.push(appendMs - epicsMs);
        latencyEpicsMs.push(epicsMs);
        firstEpicsMs = Math.min(firstEpicsMs, epicsMs);
        lastEpicsMs = Math.max(lastEpicsMs, epicsMs);
        lastAppendMs = Math.max(lastAppendMs, appendMs);
      });
      let served = 0;
      let forwarded = 0;
      let lost = 0;
      let duplicated = 0;
      for (let i = 0; i < names.length; i++) {
        const servedHere = (final[i] as number) - 1;
        const forwardedHere = perPv[i] as number;
        served += servedHere;
        forwarded += forwardedHere;
        lost += Math.max(0, servedHere - forwardedHere);
        duplicated += Math.max(0, forwardedHere - servedHere);
      }
      if (cli['latency-trace'] !== undefined)
        writeFileSync(cli['latency-trace'], latencyTrace(latencies, latencyEpicsMs, firstEpicsMs));
      const latencyMs = Float64Array.from(latencies).sort();
      const steadyLatencyMs = Float64Array.from(
        latencies.filter((_, i) => (latencyEpicsMs[i] as number) >= firstEpicsMs + 1000),
      ).sort();
      // One scan period more: the span between first and last update covers one pass fewer than were run.
      const loadS = (lastEpicsMs - firstEpicsMs) / 1000 + 1 / step.hz;
      return {
        protocol,
        step,
        connectS,
        served,
        forwarded,
        lost,
        duplicated,
        loadS,
        forwardS: Math.max(loadS, (lastAppendMs - firstEpicsMs) / 1000),
        cpuS,
        sourceCores,
        rssIdleMb,
        rssLoadMb,
        peakMb,
        latencyMs,
        steadyLatencyMs,
        al00: kinds.al00,
        ep01: kinds.ep01,
        load: load(),
        ...(memoryIdle === undefined || memoryLoad === undefined
          ? {}
          : { memory: { idle: memoryIdle, load: memoryLoad } }),
      };
    } finally {
      await forwarder.stop('SIGKILL', 5_000);
      if (cli['forwarder-output'] !== undefined) writeFileSync(cli['forwarder-output'], forwarder.output);
      await scan.close();
    }
  });
}

interface CeilingResult {
  rate: number;
  cpuS: number;
  count: number;
  note: string;
}

/**
 * (a) Producing pre-serialised f144 messages of the forwarder's sizes as fast as librdkafka takes them, for the
 * window; the rate counts the messages in the topic (its end offset) once a flush returned, over the window plus
 * the flush. With a report for every message, `reports` is how many had reached JavaScript by then.
 */
async function producerCeiling(
  kafkaConfig: Record<string, string>,
  names: readonly string[],
  reportEach: boolean,
): Promise<CeilingResult & { reports: number }> {
  const topic = uniqueTopic('bench-producer');
  await createTopic(kafkaConfig, topic);
  const payloads = names.map((name) =>
    Buffer.from(
      serialiseF144({
        sourceName: name,
        timestampNs: BigInt(Date.now()) * 1_000_000n,
        value: { kind: 'scalar', type: 'float64', value: 12345 },
      }),
    ),
  );
  const keys = names.map((name) => Buffer.from(name));
  let reports = 0;
  const producer = reportEach
    ? await rawProducer(kafkaConfig, () => reports++)
    : await KafkaProducer.create(kafkaConfig, 'bench', silentLogger);
  const produce = (index: number): boolean => {
    const key = keys[index] as Buffer;
    const payload = payloads[index] as Buffer;
    if (producer instanceof KafkaProducer) {
      const full = producer.counters.queueFull;
      producer.send(topic, key, payload, Date.now());
      return producer.counters.queueFull === full;
    }
    try {
      producer.produce(topic, null, payload, key, Date.now());
      return true;
    } catch {
      return false;
    }
  };
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const end = started + WINDOW_S * 1000;
  let index = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      if (!produce(index)) {
        await sleep(1);
        break;
      }
      index = (index + 1) % payloads.length;
    }
    await new Promise((resolveTurn) => setImmediate(resolveTurn));
  }
  if (producer instanceof KafkaProducer) await producer.flush(60_000);
  else await new Promise<void>((resolveFlush) => producer.flush(60_000, () => resolveFlush()));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (producer instanceof KafkaProducer) await producer.close(5_000);
  else await new Promise<void>((resolveClose) => producer.disconnect(5_000, () => resolveClose()));
  const scan = await TopicScan.open(kafkaConfig, topic);
  const count = await scan.endOffset();
  await scan.close();
  return {
    rate: count / seconds,
    cpuS: (cpu.user + cpu.system) / 1e6,
    count,
    reports,
    note: `${payloads[0]?.length ?? 0}-byte f144 messages`,
  };
}

/**
 * (c) Kafka's share of the latency: our KafkaProducer alone sending f144 messages at a steady `rate`, paced every
 * 5 ms as a smooth load arrives, into a fresh LogAppendTime topic. Latency = append time − the message's
 * timestamp (the send time), over the window and from its second second on, sorted.
 */
async function producerLatency(
  kafkaConfig: Record<string, string>,
  rate: number,
): Promise<{ all: Float64Array; steady: Float64Array }> {
  const topic = uniqueTopic('bench-latency');
  await createTopic(kafkaConfig, topic, { 'message.timestamp.type': 'LogAppendTime' });
  const producer = await KafkaProducer.create(kafkaConfig, 'bench', silentLogger);
  const names = Array.from({ length: 1000 }, (_, i) => `BENCH:LATENCY:${i}`);
  const keys = names.map((name) => Buffer.from(name));
  const started = performance.now();
  const startedMs = Date.now();
  let sent = 0;
  await new Promise<void>((resolveWindow) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.floor((elapsed * rate) / 1000);
      const nowMs = Date.now();
      for (; sent < due; sent++) {
        const index = sent % names.length;
        const payload = serialiseF144({
          sourceName: names[index] as string,
          timestampNs: BigInt(nowMs) * 1_000_000n,
          value: { kind: 'scalar', type: 'float64', value: sent },
        });
        producer.send(topic, keys[index] as Buffer, payload, nowMs);
      }
      if (elapsed >= WINDOW_S * 1000) {
        clearInterval(timer);
        resolveWindow();
      }
    }, 5);
  });
  await producer.flush(60_000);
  await producer.close(5_000);
  const all: number[] = [];
  const steady: number[] = [];
  const scan = await TopicScan.open(kafkaConfig, topic);
  await scan.readAll((message) => {
    if (!message.value) return;
    const sentMs = Number(deserialiseF144(message.value).timestampNs / 1_000_000n);
    const latency = (message.timestamp ?? NaN) - sentMs;
    all.push(latency);
    if (sentMs >= startedMs + 1000) steady.push(latency);
  });
  await scan.close();
  return { all: Float64Array.from(all).sort(), steady: Float64Array.from(steady).sort() };
}

/** A librdkafka producer with the forwarder's settings and a delivery report for every message. */
async function rawProducer(
  kafkaConfig: Record<string, string>,
  onReport: () => void,
): Promise<RdKafka.Producer> {
  const producer = new rdkafka.Producer({ ...PRODUCER_DEFAULTS, ...kafkaConfig, dr_cb: true });
  producer.on('delivery-report', onReport);
  await new Promise<void>((resolveConnect, rejectConnect) =>
    producer.connect({}, (error) => (error ? rejectConnect(error) : resolveConnect())),
  );
  producer.setPollInterval(50);
  return producer;
}

/** (b) Our EPICS client alone, in this process, receiving the IOC's load for the window. */
async function clientCeiling(
  protocol: EpicsProtocolName,
  step: Step,
  directory: string,
): Promise<CeilingResult & { served: number }> {
  return withSource(protocol, step, directory, async (source) => {
    const names = source.names;
    const client =
      protocol === 'ca' ? new CaClient({ env: source.clientEnv }) : new PvaClient({ env: source.clientEnv });
    const last = new Float64Array(names.length).fill(NaN);
    let received = 0;
    let withValue = 0;
    let firstMs = Infinity;
    let lastMs = -Infinity;
    names.forEach((name, i) => {
      client.subscribe(name, {
        onConnection: () => undefined,
        onUpdate: (update) => {
          const value = scalarOf(update);
          if (Number.isNaN(last[i] as number)) withValue++;
          last[i] = value;
          if (value > 1) {
            received++;
            const ms = Number(update.timestampNs / 1_000_000n);
            if (ms < firstMs) firstMs = ms;
            if (ms > lastMs) lastMs = ms;
          }
        },
      });
    });
    const deadline = Date.now() + CONNECT_DEADLINE_MS;
    while (withValue < names.length && Date.now() < deadline) await sleep(20);
    await sleep(500);
    const cpu0 = process.cpuUsage();
    await source.setLoad(true);
    await sleep(WINDOW_S * 1000);
    await source.setLoad(false);
    let before = -1;
    while (received !== before) {
      before = received;
      await sleep(QUIET_MS);
    }
    const cpu = process.cpuUsage(cpu0);
    await client.close();
    const final = await source.counts();
    let served = 0;
    for (const value of final) served += value - 1;
    const seconds = (lastMs - firstMs) / 1000 + 1 / step.hz;
    return {
      rate: received / seconds,
      cpuS: (cpu.user + cpu.system) / 1e6,
      count: received,
      served,
      note: `${SOURCE === 'stream' ? 'stream server' : 'IOC'} served ${thousands(served / seconds)}/s`,
    };
  });
}

function describeMachine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (${model}), ${fixed(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}`;
}

const stepCommand = (protocol: EpicsProtocolName, step: Step): string =>
  `${COMMAND}${(cli['kafka-config'] ?? []).map((property) => ` --kafka-config ${property}`).join('')}${(cli['node-option'] ?? []).map((option) => ` --node-option=${option}`).join('')}${step.spread && SOURCE === 'ioc' ? ' --spread' : ''}${SOURCE === 'stream' ? ' --source stream' : ''} --protocol ${protocol} --steps ${step.pvs}x${step.hz} --seconds ${WINDOW_S} --no-ceilings --no-latency-step`;

function printSteps(results: readonly StepResult[]): void {
  console.log(
    '  PVs     Hz   offered/s    served/s  forwarded/s      lost  dup   CPU s/100k  RSS idle/load/peak MB  connect s  p50/p99/max ms  after 1st s  al00/ep01  server CPU    load avg',
  );
  for (const r of results) {
    const lat = r.latencyMs;
    const steady = r.steadyLatencyMs;
    console.log(
      `  ${String(r.step.pvs).padStart(5)} ${String(r.step.hz).padStart(4)} ${thousands(r.step.pvs * r.step.hz).padStart(11)} ${thousands(r.served / r.loadS).padStart(11)} ${thousands(r.forwarded / r.forwardS).padStart(12)} ${thousands(r.lost).padStart(9)} ${thousands(r.duplicated).padStart(4)} ${fixed((r.cpuS * 100_000) / Math.max(r.forwarded, 1), 2).padStart(12)}  ${`${fixed(r.rssIdleMb, 0)}/${fixed(r.rssLoadMb, 0)}/${fixed(r.peakMb, 0)}`.padStart(21)}  ${fixed(r.connectS, 2).padStart(9)}  ${`${fixed(percentile(lat, 0.5))}/${fixed(percentile(lat, 0.99))}/${fixed(lat.at(-1) ?? NaN)}`.padStart(15)}  ${`${fixed(percentile(steady, 0.99))}/${fixed(steady.at(-1) ?? NaN)}`.padStart(11)}  ${`${r.al00}/${r.ep01}`.padStart(10)}  ${`${fixed(r.sourceCores, 2)} cores`.padStart(10)}  ${r.load}`,
    );
  }
  for (const r of results) {
    if (r.memory === undefined) continue;
    console.log(`  memory, ${r.step.pvs} PVs x ${r.step.hz} Hz, connected: ${r.memory.idle}`);
    console.log(`  memory, ${r.step.pvs} PVs x ${r.step.hz} Hz, under load: ${r.memory.load}`);
  }
  console.log('  reproduce a row:');
  for (const r of results) console.log(`    ${stepCommand(r.protocol, r.step)}`);
}

/** The highest forwarded rate of a step without loss (its whole window forwarded, nothing lost). */
function zeroLossRate(results: readonly StepResult[]): StepResult | undefined {
  return results
    .filter((r) => r.lost === 0 && r.served > 0)
    .reduce<StepResult | undefined>(
      (best, r) =>
        best === undefined || r.forwarded / r.forwardS > best.forwarded / best.forwardS ? r : best,
      undefined,
    );
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-forwarder-'));
  console.log(`Forwarder end-to-end benchmark — ${describeMachine()}`);
  console.log(`load average at start: ${load()} (1/5/15 min); window ${WINDOW_S} s per step`);
  if (LAUNCH === 'build') build();
  progress('starting the Kafka broker');
  const broker = await TestKafkaBroker.start();
  const kafkaConfig = clientConfig(broker.info, { listener: 'PLAINTEXT' });
  const brokerAddress = broker.info.listeners.PLAINTEXT;
  try {
    const summary: string[] = [];
    const allResults: StepResult[] = [];
    for (const protocol of cli['only-ceilings'] ? [] : PROTOCOLS) {
      console.log(
        `\n${protocol.toUpperCase()}: forwarder-launch (${LAUNCH === 'build' ? 'bin/forwarder-launch, compiled dist/' : 'from sources through tsx'}), f144 + al00 + ep01, ${SOURCE === 'stream' ? 'the PVA stream server' : 'one IOC'}`,
      );
      const results: StepResult[] = [];
      for (const step of STEPS) {
        progress(`${protocol} ${step.pvs} PVs x ${step.hz} Hz`);
        results.push(await forwarderStep(kafkaConfig, brokerAddress, protocol, step, directory));
      }
      const best = zeroLossRate(results);
      const saturated = best ? best.forwarded / best.forwardS : NaN;
      if (!cli['no-latency-step'] && best) {
        // Latency at half the zero-loss rate: 1,000 PVs at the rate that offers it, as a smooth load. In bursts
        // (every record processed Hz/10 times at once per 0.1 s scan) the last update of a burst waits for the
        // thousands before it, which measures the burst, not the forwarder.
        const hz = Math.max(10, Math.min(160, Math.round(saturated / 2 / 1000 / 10) * 10));
        const half = { pvs: 1000, hz, spread: true };
        progress(
          `${protocol} latency step ${half.pvs} PVs x ${half.hz} Hz (half of ${thousands(saturated)}/s)`,
        );
        results.push(await forwarderStep(kafkaConfig, brokerAddress, protocol, half, directory));
      }
      printSteps(results);
      allResults.push(...results);
      if (best) {
        summary.push(
          `${protocol}: sustained with zero loss ${thousands(saturated)} updates/s (${best.step.pvs} PVs x ${best.step.hz} Hz)`,
        );
      } else summary.push(`${protocol}: no step without loss`);
    }

    if (!cli['no-ceilings']) {
      console.log('\nCeilings (same run, same machine)');
      // The client ceiling at every step of the highest offered rate (few fast PVs and many slow ones differ).
      const highest = Math.max(...STEPS.map((step) => step.pvs * step.hz));
      const biggestSteps = STEPS.filter((step) => step.pvs * step.hz === highest);
      const steps = biggestSteps.map((step) => `${step.pvs}x${step.hz}`).join(',');
      const names = Array.from({ length: 1000 }, (_, i) => `BENCHPREFIX${i % 10}:${counterName(i)}`);
      progress('producer ceiling');
      const shipped = await producerCeiling(kafkaConfig, names, false);
      const reportEach = await producerCeiling(kafkaConfig, names, true);
      console.log(
        `  (a) KafkaProducer (as the forwarder: failure reports only): ${thousands(shipped.rate)} msg/s, ${fixed((shipped.cpuS * 100_000) / shipped.count, 2)} CPU s/100k (${shipped.note})`,
      );
      console.log(
        `      librdkafka with a delivery report per message:       ${thousands(reportEach.rate)} msg/s, ${fixed((reportEach.cpuS * 100_000) / reportEach.count, 2)} CPU s/100k (${thousands(reportEach.reports)} reports handled by the end of the flush)`,
      );
      const latencyRate = Math.round(highest / 2);
      progress(`producer latency at ${thousands(latencyRate)} msg/s`);
      const kafkaLatency = await producerLatency(kafkaConfig, latencyRate);
      console.log(
        `  (c) KafkaProducer alone, paced at ${thousands(latencyRate)} msg/s (half the highest offered rate): append - send p50/p99/max ${fixed(percentile(kafkaLatency.all, 0.5))}/${fixed(percentile(kafkaLatency.all, 0.99))}/${fixed(kafkaLatency.all.at(-1) ?? NaN)} ms, after its 1st s p99/max ${fixed(percentile(kafkaLatency.steady, 0.99))}/${fixed(kafkaLatency.steady.at(-1) ?? NaN)} ms`,
      );
      console.log(
        `      reproduce: ${COMMAND}${SOURCE === 'stream' ? ' --source stream' : ''} --steps ${steps} --seconds ${WINDOW_S} --only-ceilings`,
      );
      for (const protocol of PROTOCOLS) {
        for (const biggest of biggestSteps) {
          progress(`${protocol} client ceiling ${biggest.pvs} PVs x ${biggest.hz} Hz`);
          const client = await clientCeiling(protocol, biggest, directory);
          console.log(
            `  (b) our ${protocol.toUpperCase()} client alone, ${biggest.pvs} PVs x ${biggest.hz} Hz: ${thousands(client.rate)} updates/s received, ${fixed((client.cpuS * 100_000) / Math.max(client.count, 1), 2)} CPU s/100k (${client.note})`,
          );
          const forwarder = allResults.find((r) => r.protocol === protocol && r.step === biggest);
          if (forwarder === undefined) continue;
          const ceiling = Math.min(shipped.rate, client.rate);
          const fraction = (100 * forwarder.forwarded) / forwarder.forwardS / ceiling;
          console.log(
            `      forwarder at the same load: ${thousands(forwarder.forwarded / forwarder.forwardS)}/s = ${fixed(fraction, 0)} % of min(a, b) = ${thousands(ceiling)}/s`,
          );
          summary.push(
            `${protocol} ${biggest.pvs}x${biggest.hz}: forwarder ${fixed(fraction, 0)} % of min(producer, client) ceiling`,
          );
        }
      }
    }
    console.log('\nSummary');
    for (const line of summary) console.log(`  ${line}`);
    console.log(`load average at end: ${load()}`);
  } finally {
    await broker.destroy();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
