/**
 * Cost of the metrics hooks on the hot path, each against the same work without the hook, measured in the same
 * run: (1) Histogram.observe alone; (2) a stream pipeline handling f144 double updates with and without the
 * EPICS-time-to-produce histogram; (3) the Kafka producer sending small messages to a local test broker with and
 * without the produce-to-ack histogram (one message in ACK_LATENCY_SAMPLING carries its produce time to its
 * delivery report as librdkafka's opaque; on every message this cost about 0.5-0.7 µs of CPU per message),
 * as CPU time per message until every delivery report is in. Run: npx tsx bench/observability.ts
 */
import { performance } from 'node:perf_hooks';
import type { PvUpdate } from '../src/epics/update.js';
import { type LatencyObserver, StreamPipeline } from '../src/forwarding/pipeline.js';
import type { MessageSink } from '../src/forwarding/sink.js';
import { KafkaProducer } from '../src/kafka/producer.js';
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

// (3) Kafka producer with a real broker: CPU per message, produce to last delivery report, at a steady rate
// (what a forwarder sees) rather than in one burst.
const MESSAGES = 40_000;
const PER_TICK = 100;
const TICK_MS = 5;
const broker = await testBroker();
const config = clientConfig(broker, { listener: 'PLAINTEXT' });
const topic = uniqueTopic('bench-observability');
await createTopics(config, [topic]);
const producer = await KafkaProducer.create({ ...config, 'linger.ms': '5' }, 'bench producer', silentLogger);
const payload = Buffer.alloc(64, 1);
const key = Buffer.from('SIM:BENCH');

async function producerRound(
  latency: LatencyObserver | undefined,
): Promise<{ cpuUs: number; produceNs: number }> {
  producer.ackLatency = latency;
  const target = producer.counters.delivered + MESSAGES;
  const cpuBefore = process.cpuUsage();
  let produceMs = 0;
  for (let sent = 0; sent < MESSAGES; sent += PER_TICK) {
    const start = performance.now();
    for (let index = 0; index < PER_TICK; index++) producer.send(topic, key, payload, Date.now());
    produceMs += performance.now() - start;
    await new Promise((resolveTick) => setTimeout(resolveTick, TICK_MS));
  }
  while (producer.counters.delivered < target) await new Promise((resolveWait) => setTimeout(resolveWait, 5));
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuUs: (cpu.user + cpu.system) / MESSAGES, produceNs: (produceMs * 1e6) / MESSAGES };
}

const ackHistogram = new Histogram(LATENCY_BUCKETS);
const results = {
  without: [] as number[],
  with: [] as number[],
  produceWithout: [] as number[],
  produceWith: [] as number[],
};
await producerRound(undefined);
for (let round = 0; round < 7; round++) {
  // Alternate which goes first, so neither profits from the other's warm-up.
  const plain = round % 2 === 0 ? await producerRound(undefined) : undefined;
  const timed = await producerRound(ackHistogram);
  const plainAfter = plain ?? (await producerRound(undefined));
  results.without.push(plainAfter.cpuUs);
  results.produceWithout.push(plainAfter.produceNs);
  results.with.push(timed.cpuUs);
  results.produceWith.push(timed.produceNs);
}
const median = (list: number[]): number =>
  [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? NaN;
line(
  'producer send loop, wall per message',
  median(results.produceWithout),
  median(results.produceWith),
  'ns',
);
line(
  'producer CPU per message incl. delivery report',
  median(results.without) * 1000,
  median(results.with) * 1000,
  'ns',
);
const snapshot = ackHistogram.snapshot();
console.log(
  `produce-to-ack observed ${snapshot.count} messages, mean ${((snapshot.sum / snapshot.count) * 1000).toFixed(2)} ms`,
);
await producer.close(10_000);
if (sink === 0) console.log('');
process.exit(0);
