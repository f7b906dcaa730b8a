/**
 * The image benchmark's paced cases: one PV of 2,048 doubles served by the PVA stream server
 * (test/support/pva-stream-server.ts) in its own process, which paces updates for far less CPU than the forwarder
 * spends on them, so the forwarder, not the server, is what saturates. Each update counts what its PV was sent (an
 * NTNDArray's uniqueId, an NTScalarArray's first element), so loss is exact: updates the server sent or could not
 * send because the forwarder did not read them, against the messages that reached the topic. The rate steps up
 * until a step loses updates; the highest step without loss is the case's result.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NdArrayValue, NumericType } from '../src/model/update.js';
import { Ad00Serialiser, F144Serialiser } from '../src/schemas/index.js';
import { TYPED_ARRAY } from '../src/schemas/numeric.js';
import { topicEndOffset } from '../test/support/kafka.js';
import { type PvaLoadProcess, startPvaLoadProcess } from '../test/support/pva-load-process.js';
import { fixed, progress, thousands } from './format.js';
import { processCpuSeconds, processMemoryMb } from './forwarder/process.js';

export const STREAM_ELEMENTS = 2048;

/** The process listening on `address` (host:port), as ss shows it; 0 when there is none to be seen. */
export function listeningPid(address: string): number {
  const port = address.slice(address.lastIndexOf(':') + 1);
  const listing = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  return Number(/pid=(\d+)/.exec(listing)?.[1] ?? 0);
}

/** CPU seconds a process used so far; 0 for pid 0 (not known). */
export const cpuSecondsOf = (pid: number): number => (pid === 0 ? 0 : processCpuSeconds(pid));

export interface StreamCase {
  readonly name: string;
  /** pva-stream-server.ts's KIND. */
  readonly kind: string;
  readonly schema: 'ad00' | 'f144';
}

export const STREAM_CASES: readonly StreamCase[] = [
  {
    name: `NTNDArray of ${thousands(STREAM_ELEMENTS)} float64 as ad00`,
    kind: `ntndarray:${STREAM_ELEMENTS}`,
    schema: 'ad00',
  },
  {
    name: `NTScalarArray of ${thousands(STREAM_ELEMENTS)} float64 as f144`,
    kind: `ntscalararray:${STREAM_ELEMENTS}`,
    schema: 'f144',
  },
];

/** A started stream server serving one PV of its case. */
export interface StreamServer {
  readonly streamCase: StreamCase;
  readonly process: PvaLoadProcess;
  readonly pv: string;
  /** Where a client searches for it (an EPICS_PVA_ADDR_LIST entry). */
  readonly searchAddress: string;
}

export async function startStreamServer(streamCase: StreamCase, index: number): Promise<StreamServer> {
  const loadProcess = await startPvaLoadProcess(
    'pva-stream-server.ts',
    `stream server (${streamCase.kind})`,
    1,
    `BENCH${process.pid}:stream${index}:`,
    [streamCase.kind],
  );
  return {
    streamCase,
    process: loadProcess,
    pv: loadProcess.names[0] ?? '',
    searchAddress: loadProcess.clientEnv['EPICS_PVA_ADDR_LIST'] ?? '',
  };
}

export async function stopStreamServer(server: StreamServer): Promise<void> {
  const { child } = server.process.server;
  server.process.server.close();
  if (child.exitCode === null) await once(child, 'exit');
}

/** A message of the case's size, as the forwarder makes it from the server's updates. */
export function streamMessage(server: StreamServer): Uint8Array {
  const data = new Float64Array(STREAM_ELEMENTS);
  const timestampNs = BigInt(Date.now()) * 1_000_000n;
  if (server.streamCase.schema === 'f144') {
    return new F144Serialiser(server.pv, 'pva').serialise(
      { kind: 'array', type: 'float64', value: data },
      timestampNs,
    );
  }
  return p4pFrameMessage(server.pv, 'float64', [STREAM_ELEMENTS]);
}

/**
 * An ad00 message of a frame of `shape` (numpy's, slowest-varying first) with the attributes of the p4p server's
 * frames, as the forwarder makes it.
 */
export function p4pFrameMessage(sourceName: string, type: NumericType, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((product, size) => product * size, 1);
  const image: NdArrayValue = {
    kind: 'ndarray',
    type,
    data: new TYPED_ARRAY[type](count),
    dimensions: [...shape].reverse(),
    uniqueId: 1,
    codec: '',
    attributes: [
      { name: 'ColorMode', value: { kind: 'scalar', type: 'int64', value: 0n }, description: '', source: '' },
      {
        name: 'AcquireTime',
        value: { kind: 'scalar', type: 'float64', value: 0.25 },
        description: '',
        source: '',
      },
      { name: 'Model', value: { kind: 'string', value: 'p4p détecteur ✓' }, description: '', source: '' },
    ],
  };
  return new Ad00Serialiser(sourceName).serialise(image, BigInt(Date.now()) * 1_000_000n);
}

export interface StepFigures {
  readonly rate: number;
  readonly seconds: number;
  /** Updates the server sent. */
  readonly sent: number;
  /** Updates it could not send: the forwarder's socket had more than 1 MB unread. */
  readonly skipped: number;
  /** Updates the forwarder received (its /status.json). */
  readonly received: number;
  /** Messages that reached the topic. */
  readonly forwarded: number;
  readonly forwarderCpuSeconds: number;
  readonly serverCpuSeconds: number;
  /** The Kafka broker's (its JVM's) CPU seconds in the step. */
  readonly brokerCpuSeconds: number;
  readonly rssMb: number;
}

export const stepLoss = (step: StepFigures): number => step.sent + step.skipped - step.forwarded;

/** What the step needs of the forwarder under test and its topic. */
export interface Forwarding {
  readonly pid: number;
  /** The Kafka broker's process (0: not known). */
  readonly brokerPid: number;
  readonly config: Record<string, string>;
  readonly topic: string;
  /** Updates the forwarder has received on the stream of the server's PV. */
  updatesReceived(): Promise<number>;
}

/** One step: `rate` updates per second for `seconds`, then until the forwarder has caught up or stopped. */
async function streamStep(
  server: StreamServer,
  forwarding: Forwarding,
  rate: number,
  seconds: number,
): Promise<StepFigures> {
  const request = async (line: string, answer: string): Promise<string> => {
    const reply = await server.process.server.request(line);
    if (!reply.startsWith(answer)) throw new Error(`stream server answered ${line} with: ${reply}`);
    return reply.slice(answer.length);
  };
  const count = async (): Promise<number> =>
    (JSON.parse(await request('COUNTS', 'COUNTS ')) as number[])[0] ?? 0;
  const skipped = async (): Promise<number> => Number(await request('SKIPPED', 'SKIPPED '));
  const serverPid = server.process.server.child.pid ?? 0;
  const before = {
    count: await count(),
    skipped: await skipped(),
    offset: await topicEndOffset(forwarding.config, forwarding.topic),
    received: await forwarding.updatesReceived(),
    forwarderCpu: processCpuSeconds(forwarding.pid),
    serverCpu: processCpuSeconds(serverPid),
    brokerCpu: cpuSecondsOf(forwarding.brokerPid),
  };
  const started = performance.now();
  await request(`START ${rate}`, 'STARTED');
  await sleep(seconds * 1000);
  await request('STOP', 'STOPPED');
  const elapsed = (performance.now() - started) / 1000;
  const serverCpuSeconds = processCpuSeconds(serverPid) - before.serverCpu;
  const brokerCpuSeconds = cpuSecondsOf(forwarding.brokerPid) - before.brokerCpu;
  const sent = (await count()) - before.count;
  let forwarded = 0;
  for (let quiet = 0, last = -1; quiet < 3 && forwarded < sent;) {
    await sleep(500);
    forwarded = (await topicEndOffset(forwarding.config, forwarding.topic)) - before.offset;
    quiet = forwarded === last ? quiet + 1 : 0;
    last = forwarded;
  }
  return {
    rate,
    seconds: elapsed,
    sent,
    skipped: (await skipped()) - before.skipped,
    received: (await forwarding.updatesReceived()) - before.received,
    forwarded,
    forwarderCpuSeconds: processCpuSeconds(forwarding.pid) - before.forwarderCpu,
    serverCpuSeconds,
    brokerCpuSeconds,
    rssMb: processMemoryMb(forwarding.pid).rss,
  };
}

/** Steps through `rates` (ascending) until one loses updates; returns every step run. */
export async function rateLadder(
  server: StreamServer,
  forwarding: Forwarding,
  rates: readonly number[],
  seconds: number,
): Promise<StepFigures[]> {
  const steps: StepFigures[] = [];
  for (const rate of rates) {
    progress(`forwarder: ${server.streamCase.name} at ${thousands(rate)}/s`);
    const step = await streamStep(server, forwarding, rate, seconds);
    steps.push(step);
    if (stepLoss(step) > 0) break;
  }
  return steps;
}

const MB = 1e6;

/** The forwarded MB/s of a step. */
export const stepMbPerS = (step: StepFigures, messageBytes: number): number =>
  (step.forwarded * messageBytes) / MB / step.seconds;

/** A step as a report line. */
export function describeStep(step: StepFigures, messageBytes: number): string {
  const loss = stepLoss(step);
  const mb = stepMbPerS(step, messageBytes);
  return (
    `${thousands(step.rate)}/s asked: ${thousands(step.sent / step.seconds)}/s sent, ` +
    `${thousands(step.forwarded)} of ${thousands(step.sent + step.skipped)} forwarded ` +
    `(${loss === 0 ? 'no loss' : `${thousands(loss)} lost: ${lossDetail(step)}`}), ` +
    `${fixed(mb)} MB/s; forwarder CPU ${fixed((step.forwarderCpuSeconds * 1000) / (mb * step.seconds), 1)} ms/MB ` +
    `(${fixed(step.forwarderCpuSeconds / step.seconds, 2)} cores), RSS ${fixed(step.rssMb, 0)} MB; ` +
    `server ${fixed(step.serverCpuSeconds / step.seconds, 2)} cores, ` +
    `broker ${fixed(step.brokerCpuSeconds / step.seconds, 2)} cores`
  );
}

/** Where a step's lost updates went. */
const lossDetail = (step: StepFigures): string =>
  `${thousands(step.skipped)} not sent (the forwarder was not reading), ` +
  `${thousands(step.sent - step.received)} sent but not received, ` +
  `${thousands(step.received - step.forwarded)} received but not forwarded`;
