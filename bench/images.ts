/**
 * Area-detector images through the forwarder: a p4p server streams NTNDArray frames, the compiled forwarder sends
 * them to Kafka as ad00, and the benchmark reports, per load, the bytes per second forwarded and whether any frame
 * was lost (the frames the forwarder received, from its /status.json, against the ad00 messages that reached the
 * topic), the forwarder's CPU per MB and its memory. At "as fast as the server posts" the server posts faster than
 * any client takes frames and squashes the surplus into the next update, as pvAccess servers do: those frames
 * never reach the forwarder, and are shown apart. Then the paced cases (bench/images-stream.ts): one PV of 2,048
 * doubles, an NTNDArray forwarded as ad00 and an NTScalarArray forwarded as f144, from the PVA stream server, whose
 * rate steps up until the forwarder loses updates. Beside each, in the same run, the ceiling: our KafkaProducer
 * alone sending messages of the same size as fast as librdkafka takes them. The broker's CPU is shown beside the
 * paced steps and the ceilings: on a machine of few cores, what the broker takes bounds both.
 *
 * Usage: npm run bench:images [-- --seconds S] [--step-seconds S] [--rates R1,R2,...] [--only-stream]
 *        [--cpu-prof DIR] [--node-option OPTION] [--forwarder-output FILE]
 * --seconds: per p4p load and per ceiling (15); --step-seconds: per step of the paced cases (5); --rates: their
 * updates per second (1000,2000,...,32000); --only-stream: the paced cases alone; --cpu-prof DIR: the forwarder
 * writes a V8 CPU profile into DIR when it stops (node --cpu-prof); --node-option (repeatable): a Node or V8 option
 * for the forwarder's node (--node-option=--trace-gc); --forwarder-output FILE: what the forwarder printed.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaProducer } from '../src/kafka/producer.js';
import { silentLogger } from '../src/logging/logger.js';
import type { NumericType } from '../src/model/update.js';
import { Protocol, serialiseFc00, UpdateType } from '../src/schemas/index.js';
import { ForwarderProcess } from '../test/support/forwarder.js';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import {
  clientConfig,
  createTopics,
  produceMessages,
  topicEndOffset,
  uniqueTopic,
} from '../test/support/kafka.js';
import { type ImageDtype, NtNdArrayServer } from '../test/support/ntndarray-server.js';
import { freePort } from '../test/support/ports.js';
import { fixed, loadAverage, progress, thousands } from './format.js';
import { build } from './forwarder/launch.js';
import { processCpuSeconds, processMemoryMb } from './forwarder/process.js';
import { describeMachine } from './forwarder/report.js';
import {
  cpuSecondsOf,
  describeStep,
  listeningPid,
  p4pFrameMessage,
  type Forwarding,
  rateLadder,
  STREAM_CASES,
  type StreamServer,
  startStreamServer,
  stepLoss,
  stepMbPerS,
  stopStreamServer,
  streamMessage,
} from './images-stream.js';

const cli = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    'step-seconds': { type: 'string', default: '5' },
    rates: {
      type: 'string',
      default: '1000,2000,3000,4000,5000,6000,8000,10000,12000,14000,16000,20000,24000,28000,32000',
    },
    'only-stream': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'node-option': { type: 'string', multiple: true },
    'forwarder-output': { type: 'string' },
  },
}).values;
const SECONDS = Number(cli.seconds);
const STEP_SECONDS = Number(cli['step-seconds']);
const RATES = cli.rates.split(',').map(Number);
const MB = 1e6;

interface Load {
  readonly name: string;
  readonly dtype: ImageDtype & NumericType;
  /** numpy shape, slowest-varying first. */
  readonly shape: readonly number[];
  /** Frames per second the server is asked for; 0: as fast as it can. */
  readonly hz: number;
}

const ALL_LOADS: readonly Load[] = [
  { name: '512x512 uint16 at 30 Hz', dtype: 'uint16', shape: [512, 512], hz: 30 },
  { name: '2048x2048 uint16 at 10 Hz', dtype: 'uint16', shape: [2048, 2048], hz: 10 },
  { name: '2048 float64, as fast as the server posts', dtype: 'float64', shape: [2048], hz: 0 },
  { name: '512x512 uint16, as fast as the server posts', dtype: 'uint16', shape: [512, 512], hz: 0 },
];
const LOADS = cli['only-stream'] ? [] : ALL_LOADS;

/** An ad00 message of the load's size, as the forwarder makes it. */
const ad00Message = (load: Load): Uint8Array => p4pFrameMessage('BENCH:image', load.dtype, load.shape);

interface Figures {
  readonly messages: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** The broker's CPU seconds meanwhile (the producer alone's figures only). */
  readonly brokerCpuSeconds?: number;
}

const mbPerS = (figures: Figures, bytes: number): number => (figures.messages * bytes) / MB / figures.seconds;

/** KafkaProducer alone: `seconds` of ad00 messages of the load's size, as fast as librdkafka queues them. */
async function producerCeiling(
  config: Record<string, string>,
  message: Uint8Array,
  brokerPid: number,
): Promise<Figures> {
  const topic = uniqueTopic('ceiling');
  await createTopics(config, [topic], 1, { 'max.message.bytes': '20000000' });
  // A queue of 64 MB, as good as unbounded for throughput: a message it has no room for is sent again shortly.
  const producer = await KafkaProducer.create(
    { ...config, 'queue.buffering.max.kbytes': '65536' },
    'ceiling',
    silentLogger,
  );
  const key = Buffer.from('BENCH:image');
  const cpu = process.cpuUsage();
  const brokerCpu = cpuSecondsOf(brokerPid);
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    const full = producer.counters.queueFull;
    producer.send(topic, key, message, Date.now());
    if (producer.counters.queueFull !== full) await sleep(1);
  }
  await producer.close(60_000);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    messages: producer.counters.delivered,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    brokerCpuSeconds: cpuSecondsOf(brokerPid) - brokerCpu,
  };
}

/** The producer alone's CPU per MB and in cores, and the broker's cores meanwhile. */
const describeCeilingCpu = (ceiling: Figures, mb: number): string =>
  `CPU ${fixed((ceiling.cpuSeconds * 1000) / (mb * ceiling.seconds), 1)} ms/MB ` +
  `(${fixed(ceiling.cpuSeconds / ceiling.seconds, 2)} cores), ` +
  `broker ${fixed((ceiling.brokerCpuSeconds ?? 0) / ceiling.seconds, 2)} cores`;

async function main(): Promise<void> {
  console.log(`Images benchmark — ${describeMachine()}`);
  console.log(
    `load average at start: ${loadAverage()}; ${SECONDS} s per load and ceiling, ${STEP_SECONDS} s per paced step`,
  );
  build();
  progress('starting the Kafka broker');
  const broker = await TestKafkaBroker.start();
  const config = clientConfig(broker.info, { listener: 'PLAINTEXT' });
  const address = broker.info.listeners.PLAINTEXT;
  const brokerPid = listeningPid(address);
  const server = await NtNdArrayServer.start(LOADS.map((_, i) => `image${i}`));
  const streamServers: StreamServer[] = [];
  for (const [i, streamCase] of STREAM_CASES.entries())
    streamServers.push(await startStreamServer(streamCase, i));
  const topics = { config: uniqueTopic('commands'), status: uniqueTopic('status') };
  const dataTopics = LOADS.map((_, i) => uniqueTopic(`images${i}`));
  const streamTopics = STREAM_CASES.map((_, i) => uniqueTopic(`stream${i}`));
  await createTopics(config, [topics.config, topics.status]);
  await createTopics(config, [...dataTopics, ...streamTopics], 1, { 'max.message.bytes': '20000000' });
  const httpPort = await freePort();
  const forwarder = ForwarderProcess.startCompiled(
    [
      ...(cli['node-option'] ?? []),
      ...(cli['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cli['cpu-prof']]),
    ],
    [
      ...['--config-topic', `${address}/${topics.config}`, '--status-topic', `${address}/${topics.status}`],
      ...['--output-broker', address, '--skip-retrieval', '--http-address', `127.0.0.1:${httpPort}`],
    ],
    {
      ...server.clientEnv,
      EPICS_PVA_ADDR_LIST: [server.searchAddress, ...streamServers.map((each) => each.searchAddress)].join(
        ' ',
      ),
    },
  );
  /** The updates the forwarder has received on the stream of `pv`. */
  const updatesReceived = async (pv: string): Promise<number> => {
    const status = (await (await fetch(`http://127.0.0.1:${httpPort}/status.json`)).json()) as {
      streams: { pv: string; updates: number }[];
    };
    return status.streams.find((entry) => entry.pv === pv)?.updates ?? 0;
  };
  const pid = forwarder.child.pid ?? 0;
  try {
    await forwarder.waitForOutput(/Listening for commands/, 60_000);
    const stream = (channel: string, schema: string, topic: string | undefined) => ({
      channel,
      schema,
      topic: topic ?? '',
      protocol: Protocol.PVA,
      periodic: 0,
    });
    const streams = [
      ...LOADS.map((_, i) => stream(server.pv(`image${i}`), 'ad00', dataTopics[i])),
      ...streamServers.map((each, i) => stream(each.pv, each.streamCase.schema, streamTopics[i])),
    ];
    await produceMessages(config, topics.config, [
      { value: Buffer.from(serialiseFc00({ configChange: UpdateType.ADD, streams })) },
    ]);
    await sleep(3000);
    const lines: string[] = [];
    for (const [i, load] of LOADS.entries()) {
      const topic = dataTopics[i] ?? '';
      const message = ad00Message(load);
      progress(`forwarder: ${load.name}`);
      const before = await topicEndOffset(config, topic);
      const updatesBefore = await updatesReceived(server.pv(`image${i}`));
      const cpuBefore = processCpuSeconds(pid);
      const count = load.hz === 0 ? 0 : Math.round(load.hz * SECONDS);
      await server.stream({ dtype: load.dtype, shape: load.shape, rateHz: load.hz, count, pv: `image${i}` });
      if (count === 0) await sleep(SECONDS * 1000);
      else while (!server.streamed()) await sleep(200);
      const { frames, seconds } = await server.stopStream();
      // Until the last frame has reached Kafka, or the forwarder has stopped catching up.
      let received = 0;
      let taken = 0;
      for (let quiet = 0, last = -1; quiet < 3 && (received < taken || taken === 0);) {
        await sleep(500);
        taken = (await updatesReceived(server.pv(`image${i}`))) - updatesBefore;
        received = (await topicEndOffset(config, topic)) - before;
        quiet = received === last ? quiet + 1 : 0;
        last = received;
      }
      const forwarded = { messages: received, seconds, cpuSeconds: processCpuSeconds(pid) - cpuBefore };
      const memory = processMemoryMb(pid);
      progress(`producer alone: ${load.name}`);
      const ceiling = await producerCeiling(config, message, brokerPid);
      const forwardedMb = mbPerS(forwarded, message.length);
      const ceilingMb = mbPerS(ceiling, message.length);
      lines.push(
        `${load.name} (${thousands(message.length)} B a message)\n` +
          `  forwarder:      ${fixed(forwardedMb)} MB/s, ${thousands(received)} of the ${thousands(taken)} frames ` +
          `it received (${taken === received ? 'no loss' : `${thousands(taken - received)} lost`}), ` +
          `${fixed(received / seconds)} frames/s; the server posted ${thousands(frames)}` +
          `${frames > taken ? ` (${thousands(frames - taken)} squashed before they were sent)` : ''}; ` +
          `CPU ${fixed((forwarded.cpuSeconds * 1000) / (forwardedMb * seconds), 1)} ms/MB, ` +
          `RSS ${fixed(memory.rss, 0)} MB (peak ${fixed(memory.peak, 0)})\n` +
          `  producer alone: ${fixed(ceilingMb)} MB/s, ${describeCeilingCpu(ceiling, ceilingMb)}; ` +
          `forwarder / producer alone: ${fixed((100 * forwardedMb) / ceilingMb, 0)} %`,
      );
    }
    for (const [i, streamServer] of streamServers.entries()) {
      const forwarding: Forwarding = {
        pid,
        brokerPid,
        config,
        topic: streamTopics[i] ?? '',
        updatesReceived: () => updatesReceived(streamServer.pv),
      };
      const steps = await rateLadder(streamServer, forwarding, RATES, STEP_SECONDS);
      const message = streamMessage(streamServer);
      progress(`producer alone: ${streamServer.streamCase.name}`);
      const ceiling = await producerCeiling(config, message, brokerPid);
      const ceilingMb = mbPerS(ceiling, message.length);
      const best = steps.filter((step) => stepLoss(step) === 0).at(-1);
      const bestMb = best === undefined ? Number.NaN : stepMbPerS(best, message.length);
      lines.push(
        `${streamServer.streamCase.name}, paced by the PVA stream server (${thousands(message.length)} B a message)\n` +
          steps.map((step) => `  ${describeStep(step, message.length)}\n`).join('') +
          `  producer alone: ${fixed(ceilingMb)} MB/s, ${describeCeilingCpu(ceiling, ceilingMb)}\n` +
          `  highest rate without loss: ` +
          (best === undefined
            ? 'none'
            : `${thousands(best.sent / best.seconds)} updates/s, ${fixed(bestMb)} MB/s = ` +
              `${fixed((100 * bestMb) / ceilingMb, 0)} % of the producer alone`),
      );
    }
    console.log('');
    for (const line of lines) console.log(line);
    console.log(`load average at end: ${loadAverage()}`);
  } finally {
    // SIGTERM lets node write the CPU profile.
    await forwarder.stop(cli['cpu-prof'] === undefined ? 'SIGKILL' : 'SIGTERM');
    if (cli['forwarder-output'] !== undefined) writeFileSync(cli['forwarder-output'], forwarder.output);
    await server.stop();
    for (const streamServer of streamServers) await stopStreamServer(streamServer);
    await broker.destroy();
  }
}

await main();
