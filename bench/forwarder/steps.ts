/**
 * One benchmark step: the forwarder started on N stored streams, its connect time, then the load for the window,
 * the drain, and the data topic read back and compared per PV with what the load source served.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { deserialiseF144, Protocol, serialiseFc00, UpdateType } from '../../src/schemas/index.js';
import type { ForwarderProcess } from '../../test/support/forwarder.js';
import { createTopics, produceMessages, uniqueTopic } from '../../test/support/kafka.js';
import { freePort } from '../../test/support/ports.js';
import { loadAverage, progress } from '../format.js';
import { startForwarder } from './launch.js';
import { memoryDetail, processCpuSeconds, processMemoryMb } from './process.js';
import { latencyTrace } from './latency.js';
import {
  type BenchSettings,
  CONNECT_DEADLINE_MS,
  type EpicsProtocolName,
  QUIET_MS,
  type Step,
} from './settings.js';
import { withSource } from './sources.js';
import { identifierOf, TopicScan } from './topic.js';

export interface StepResult {
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

/** al00 and ep01 messages of a whole step, connect included. */
export class KindCounts {
  al00 = 0;
  ep01 = 0;

  count(identifier: string): void {
    if (identifier === 'al00') this.al00++;
    else if (identifier === 'ep01') this.ep01++;
  }
}

/** The f144 messages of load updates read back from the data topic. */
export interface ReadBack {
  /** Messages per PV. */
  readonly perPv: Float64Array;
  readonly latencies: number[];
  /** The EPICS time of each latency's update (ms). */
  readonly epicsMs: number[];
  readonly firstEpicsMs: number;
  readonly lastEpicsMs: number;
  readonly lastAppendMs: number;
}

export async function forwarderStep(
  settings: BenchSettings,
  kafkaConfig: Record<string, string>,
  brokerAddress: string,
  protocol: EpicsProtocolName,
  step: Step,
  directory: string,
): Promise<StepResult> {
  return withSource(settings.source, protocol, step, directory, async (source) => {
    const names = source.names;
    const topics = await stepTopics(kafkaConfig, names, protocol);
    const scan = await TopicScan.open(kafkaConfig, topics.data);
    const httpPort = settings.memoryDetail ? await freePort() : undefined;
    const started = performance.now();
    const forwarder = startForwarder(
      settings,
      forwarderArguments(settings, brokerAddress, topics, httpPort),
      source.clientEnv,
    );
    try {
      const pid = forwarder.child.pid as number;
      const kinds = new KindCounts();
      const connected = await awaitEveryPv(scan, names, forwarder, kinds);
      const connectS = (performance.now() - started) / 1000;
      if (connected < names.length)
        progress(`only ${connected} of ${names.length} PVs forwarding after 60 s`);
      await sleep(1000);
      const rssIdleMb = processMemoryMb(pid).rss;
      const memoryIdle = httpPort === undefined ? undefined : await memoryDetail(pid, httpPort);
      if (settings.heapSnapshot !== undefined) {
        process.kill(pid, 'SIGUSR2');
        await sleep(15_000);
      }

      const cpu0 = processCpuSeconds(pid);
      const sourceCpu0 = processCpuSeconds(source.pid);
      const window0 = performance.now();
      await source.setLoad(true);
      await sleep(settings.windowS * 1000);
      const sourceCores =
        (processCpuSeconds(source.pid) - sourceCpu0) / ((performance.now() - window0) / 1000);
      const rssLoadMb = processMemoryMb(pid).rss;
      const memoryLoad = httpPort === undefined ? undefined : await memoryDetail(pid, httpPort);
      await source.setLoad(false);
      await awaitDrained(scan);
      const cpuS = processCpuSeconds(pid) - cpu0;
      const { peak: peakMb } = processMemoryMb(pid);
      const final = await source.counts();
      await forwarder.stop('SIGTERM', 15_000);

      const read = await readBack(scan, names, kinds);
      const { served, forwarded, lost, duplicated } = comparePerPv(final, read.perPv);
      if (settings.latencyTrace !== undefined)
        writeFileSync(settings.latencyTrace, latencyTrace(read.latencies, read.epicsMs, read.firstEpicsMs));
      const latencyMs = Float64Array.from(read.latencies).sort();
      const steadyLatencyMs = Float64Array.from(
        read.latencies.filter((_, i) => (read.epicsMs[i] as number) >= read.firstEpicsMs + 1000),
      ).sort();
      // One scan period more: the span between first and last update covers one pass fewer than were run.
      const loadS = (read.lastEpicsMs - read.firstEpicsMs) / 1000 + 1 / step.hz;
      return {
        protocol,
        step,
        connectS,
        served,
        forwarded,
        lost,
        duplicated,
        loadS,
        forwardS: Math.max(loadS, (read.lastAppendMs - read.firstEpicsMs) / 1000),
        cpuS,
        sourceCores,
        rssIdleMb,
        rssLoadMb,
        peakMb,
        latencyMs,
        steadyLatencyMs,
        al00: kinds.al00,
        ep01: kinds.ep01,
        load: loadAverage(),
        ...(memoryIdle === undefined || memoryLoad === undefined
          ? {}
          : { memory: { idle: memoryIdle, load: memoryLoad } }),
      };
    } finally {
      await forwarder.stop('SIGKILL', 5_000);
      if (settings.forwarderOutput !== undefined) writeFileSync(settings.forwarderOutput, forwarder.output);
      await scan.close();
    }
  });
}

/** The forwarder-launch arguments of a step: its topics, the run's Kafka properties and extra arguments. */
export function forwarderArguments(
  settings: BenchSettings,
  brokerAddress: string,
  topics: StepTopics,
  httpPort: number | undefined,
): string[] {
  return [
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
    ...settings.kafkaConfig.flatMap((property) => ['--kafka-config', property]),
    ...(httpPort === undefined ? [] : ['--http-address', String(httpPort)]),
    ...(settings.forwarderArgs ?? []),
  ];
}

/** What the load source served against what reached Kafka, per PV (`final`: each counter, 1 before the load). */
export function comparePerPv(
  final: Float64Array,
  perPv: Float64Array,
): { served: number; forwarded: number; lost: number; duplicated: number } {
  let served = 0;
  let forwarded = 0;
  let lost = 0;
  let duplicated = 0;
  for (let i = 0; i < perPv.length; i++) {
    const servedHere = (final[i] as number) - 1;
    const forwardedHere = perPv[i] as number;
    served += servedHere;
    forwarded += forwardedHere;
    lost += Math.max(0, servedHere - forwardedHere);
    duplicated += Math.max(0, forwardedHere - servedHere);
  }
  return { served, forwarded, lost, duplicated };
}

export interface StepTopics {
  readonly config: string;
  readonly status: string;
  readonly storage: string;
  readonly data: string;
}

/** The step's fresh topics, with its streams stored in the storage topic for the forwarder to restore. */
export async function stepTopics(
  kafkaConfig: Record<string, string>,
  names: readonly string[],
  protocol: EpicsProtocolName,
): Promise<StepTopics> {
  const topics = {
    config: uniqueTopic('bench-commands'),
    status: uniqueTopic('bench-status'),
    storage: uniqueTopic('bench-storage'),
    data: uniqueTopic('bench-data'),
  };
  await createTopics(kafkaConfig, [topics.config]);
  await createTopics(kafkaConfig, [topics.status]);
  await createTopics(kafkaConfig, [topics.storage], 1, { 'max.message.bytes': '50000000' });
  await createTopics(kafkaConfig, [topics.data], 1, { 'message.timestamp.type': 'LogAppendTime' });
  // Above ~10,000 streams the stored set is larger than a producer's default limit of 1 MB.
  await produceMessages({ ...kafkaConfig, 'message.max.bytes': '50000000' }, topics.storage, [
    { value: streamsCommand(names, topics.data, protocol) },
  ]);
  return topics;
}

/** An fc00 command adding an f144 stream of every PV. */
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

/** Reads the data topic until every PV has an f144 in it (or the deadline): how many have. */
export async function awaitEveryPv(
  scan: TopicScan,
  names: readonly string[],
  forwarder: ForwarderProcess,
  kinds: KindCounts,
): Promise<number> {
  const seen = new Set<string>();
  const deadline = Date.now() + CONNECT_DEADLINE_MS;
  while (seen.size < names.length && Date.now() < deadline) {
    for (const message of await scan.batch()) {
      const payload = message.value;
      if (!payload) continue;
      const identifier = identifierOf(payload);
      kinds.count(identifier);
      if (identifier === 'f144') seen.add(message.key?.toString() ?? '');
    }
    if (forwarder.child.exitCode !== null) throw new Error(`forwarder exited:\n${forwarder.output}`);
  }
  return seen.size;
}

/** Drained when the data topic's end offset stops moving. */
export async function awaitDrained(scan: TopicScan): Promise<void> {
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
}

/** The rest of the data topic: every f144 with a value above 1 is a load update (the counters start at 1). */
export async function readBack(
  scan: TopicScan,
  names: readonly string[],
  kinds: KindCounts,
): Promise<ReadBack> {
  const indexOf = new Map(names.map((name, i) => [name, i]));
  const perPv = new Float64Array(names.length);
  const latencies: number[] = [];
  const epicsMsOf: number[] = [];
  let firstEpicsMs = Infinity;
  let lastEpicsMs = -Infinity;
  let lastAppendMs = -Infinity;
  await scan.readAll((message) => {
    const payload = message.value;
    if (!payload) return;
    const identifier = identifierOf(payload);
    kinds.count(identifier);
    if (identifier !== 'f144') return;
    const decoded = deserialiseF144(payload);
    const value = decoded.value.kind === 'scalar' ? Number(decoded.value.value) : NaN;
    const index = indexOf.get(decoded.sourceName);
    if (index === undefined || !(value > 1)) return;
    perPv[index] = (perPv[index] as number) + 1;
    const epicsMs = Number(decoded.timestampNs / 1_000_000n);
    const appendMs = message.timestamp ?? NaN;
    latencies.push(appendMs - epicsMs);
    epicsMsOf.push(epicsMs);
    firstEpicsMs = Math.min(firstEpicsMs, epicsMs);
    lastEpicsMs = Math.max(lastEpicsMs, epicsMs);
    lastAppendMs = Math.max(lastAppendMs, appendMs);
  });
  return { perPv, latencies, epicsMs: epicsMsOf, firstEpicsMs, lastEpicsMs, lastAppendMs };
}

/** The highest forwarded rate of a step without loss (its whole window forwarded, nothing lost). */
export function zeroLossRate(results: readonly StepResult[]): StepResult | undefined {
  return results
    .filter((r) => r.lost === 0 && r.served > 0)
    .reduce<StepResult | undefined>(
      (best, r) =>
        best === undefined || r.forwarded / r.forwardS > best.forwarded / best.forwardS ? r : best,
      undefined,
    );
}
