/**
 * Cost of the metrics hooks on the hot path, each against the same work without the hook, measured in the same
 * run: (1) Histogram.observe alone; (2) a stream pipeline handling f144 double updates with and without the
 * EPICS-time-to-produce histogram; (3) CPU per small message sent to a local test broker, delivery report
 * included: librdkafka's producer without and with a produce time as opaque on every message (the mechanism of
 * the produce-to-ack histogram), then KafkaProducer as shipped without and with the histogram (one message in
 * ACK_LATENCY_SAMPLING timed). Run: npx tsx bench/observability.ts
 */
import rdkafka from '@confluentinc/kafka-javascript';
import { performance } from 'node:perf_hooks';
import type { PvUpdate } from '../src/epics/update.js';
import { type LatencyObserver, StreamPipeline } from '../src/forwarding/pipeline.js';
import type { MessageSink } from '../src/forwarding/sink.js';
import { ACK_LATENCY_SAMPLING, KafkaProducer } from '../src/kafka/producer.js';
import { silentLogger } from '../src/observability/logger.js';
import { exponentialBuckets, Histogram } from '../src/observability/metrics.js';
import { clientConfig, createTopics, testBroker, uniqueTopic } from '../test/support/kafka.js';

const ROUNDS = 7;
const LATENCY_BUCKETS = exponentialBuckets(0.0005, 2, 16);

/** Best of ROUNDS of `run(count)`, in ns per operation. */
function bestNsPerOp(count: number, run: (count: number) => void): number {
  run(count);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    run(count);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / count);
  }
  return best;
}

function line(name: string, without: number, withHook: number, unit: string): void {
  const extra = withHook - without;
  console.log(
    `${name.padEnd(44)} without ${without.toFixed(1).padStart(8)} ${unit}  with ${withHook.toFixed(1).padStart(8)} ${unit}` +
      `  hook ${extra.toFixed(1).padStart(7)} ${unit} (${((extra / without) * 100).toFixed(1)} %)`,
  );
}

// (1) observe alone, over values spread across the buckets.
const values = Float64Array.from({ length: 4096 }, (_, index) => (index % 64) * 0.003);
const histogram = new Histogram(LATENCY_BUCKETS);
let sink = 0;
const baseline = bestNsPerOp(5_000_000, (count) => {
  for (let index = 0; index < count; index++) sink += values[index & 4095] as number;
});
const observed = bestNsPerOp(5_000_000, (count) => {
  for (let index = 0; index < count; index++) histogram.observe(values[index & 4095] as number);
});
line('Histogram.observe (16 buckets)', baseline, observed, 'ns');

// (2) pipeline: f144 double updates to a sink that keeps nothing.
class NullSink implements MessageSink {
  bytes = 0;
  send(_topic: string, _key: Buffer | null, payload: Uint8Array): void {
    this.bytes += payload.length;
  }
}
const nowMs = Date.now();
const updates: PvUpdate[] = Array.from({ length: 1024 }, (_, index) => ({
  value: { kind: 'scalar', type: 'float64', value: index + 0.5 },
  timestampNs: BigInt(nowMs + index) * 1_000_000n,
  alarm: { severity: 0, status: 0, message: 'NO_ALARM' },
}));
function pipelineRun(latency: LatencyObserver | undefined): (count: number) => void {
  return (count) => {
    for (let done = 0; done < count; done += updates.length) {
      // A fresh pipeline per pass, so the timestamp filter accepts every update again.
      const pipeline = new StreamPipeline(
        { pvName: 'SIM:BENCH', protocol: 'ca', topic: 'bench', schema: 'f144', periodic: false },
        { sink: new NullSink(), logger: silentLogger, now: () => nowMs + 2000, produceLatency: latency },
      );
      for (const update of updates) pipeline.onUpdate(update);
    }
  };
}
const pipelineHistogram = new Histogram(LATENCY_BUCKETS);
const pipelineFigures = { without: Infinity, with: Infinity };
for (let pass = 0; pass < 3; pass++) {
  pipelineFigures.without = Math.min(pipelineFigures.without, bestNsPerOp(102_400, pipelineRun(undefined)));
  pipelineFigures.with = Math.min(pipelineFigures.with, bestNsPerOp(102_400, pipelineRun(pipelineHistogram)));
}
line('pipeline f144 double update', pipelineFigures.without, pipelineFigures.with, 'ns');

// (3) Kafka producer with a real broker: CPU per message from produce to the last delivery report, at a steady
// rate (what a forwarder sees) rather than in one burst. First librdkafka's producer itself without and with a
// produce time as opaque on every message (the mechanism), then KafkaProducer as shipped, without and with the
// histogram (one message in ACK_LATENCY_SAMPLING timed).
const MESSAGES = 40_000;
const PER_TICK = 100;
const TICK_MS = 5;
const broker = await testBroker();
const config = clientConfig(broker, { listener: 'PLAINTEXT' });
const topic = uniqueTopic('bench-observability');
await createTopics(config, [topic]);
const payload = Buffer.alloc(64, 1);
const key = Buffer.from('SIM:BENCH');

/** CPU µs per message for sending MESSAGES with `send` and waiting until `delivered()` has counted them. */
async function cpuPerMessage(send: () => void, delivered: () => number): Promise<number> {
  const target = delivered() + MESSAGES;
  const cpuBefore = process.cpuUsage();
  for (let sent = 0; sent < MESSAGES; sent += PER_TICK) {
    for (let index = 0; index < PER_TICK; index++) send();
    await new Promise((resolveTick) => setTimeout(resolveTick, TICK_MS));
  }
  while (delivered() < target) await new Promise((resolveWait) => setTimeout(resolveWait, 5));
  const cpu = process.cpuUsage(cpuBefore);
  return (cpu.user + cpu.system) / MESSAGES;
}

/** Lowest CPU per message of each variant over interleaved rounds (the least disturbed by other load). */
async function compare(
  name: string,
  without: () => Promise<number>,
  withHook: () => Promise<number>,
): Promise<void> {
  await without();
  await withHook();
  let best = { without: Infinity, with: Infinity };
  for (let round = 0; round < 7; round++) {
    // Alternate which goes first, so neither profits from the other's warm-up.
    const first = round % 2 === 0 ? await without() : await withHook();
    const second = round % 2 === 0 ? await withHook() : await without();
    const [plain, timed] = round % 2 === 0 ? [first, second] : [second, first];
    best = { without: Math.min(best.without, plain), with: Math.min(best.with, timed) };
  }
  line(name, best.without * 1000, best.with * 1000, 'ns');
}

const raw = new rdkafka.Producer({ ...config, 'linger.ms': '5', dr_cb: true });
let rawDelivered = 0;
raw.on('delivery-report', () => rawDelivered++);
await new Promise<void>((resolveConnect, rejectConnect) =>
  raw.connect({}, (error) => (error ? rejectConnect(error) : resolveConnect())),
);
raw.setPollInterval(50);
await compare(
  'librdkafka CPU/message, opaque on every one',
  () =>
    cpuPerMessage(
      () => raw.produce(topic, null, payload, key, Date.now()),
      () => rawDelivered,
    ),
  () =>
    cpuPerMessage(
      () => raw.produce(topic, null, payload, key, Date.now(), performance.now()),
      () => rawDelivered,
    ),
);
await new Promise<void>((resolveDisconnect) => raw.disconnect(() => resolveDisconnect()));

const producer = await KafkaProducer.create({ ...config, 'linger.ms': '5' }, 'bench producer', silentLogger);
const ackHistogram = new Histogram(LATENCY_BUCKETS);
const shipped = (latency: LatencyObserver | undefined) => (): Promise<number> => {
  producer.ackLatency = latency;
  return cpuPerMessage(
    () => producer.send(topic, key, payload, Date.now()),
    () => producer.counters.delivered,
  );
};
await compare(
  `KafkaProducer CPU/message, 1 in ${ACK_LATENCY_SAMPLING} timed`,
  shipped(undefined),
  shipped(ackHistogram),
);
const snapshot = ackHistogram.snapshot();
console.log(
  `produce-to-ack: ${snapshot.count} messages timed, mean ${((snapshot.sum / snapshot.count) * 1000).toFixed(2)} ms`,
);
await producer.close(10_000);
if (sink === 0) console.log('');
process.exit(0);
