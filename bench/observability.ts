/**
 * Cost of the metrics hooks on the hot path, each against the same work without the hook, measured in the same
 * run: (1) Histogram.observe alone; (2) a stream pipeline handling f144 double updates with and without the
 * EPICS-time-to-produce histogram; (3) CPU per small message sent to a local test broker until a flush returns:
 * librdkafka's producer with a delivery report for every message (what the Kafka figures were once counted
 * from) against failure reports only with statistics every second (what KafkaProducer does).
 * Run: npx tsx bench/observability.ts
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PvUpdate } from '../src/model/update.js';
import { type LatencyObserver, StreamPipeline } from '../src/forwarding/pipeline.js';
import type { MessageSink } from '../src/forwarding/sink.js';
import { STATISTICS_INTERVAL_MS } from '../src/kafka/producer.js';
import { silentLogger } from '../src/logging/logger.js';
import { exponentialBuckets, Histogram } from '../src/observability/metrics.js';
import { clientConfig, createTopics, testBroker, uniqueTopic } from '../test/support/kafka.js';
import { connectedProducer } from './producer.js';

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

// (3) Kafka producer with a real broker: CPU per message from produce to the end of a flush, at a steady rate (what
// a forwarder sees) rather than in one burst, with a report for every message against failure reports only.
const MESSAGES = 40_000;
const PER_TICK = 100;
const TICK_MS = 5;
const broker = await testBroker();
const config = clientConfig(broker, { listener: 'PLAINTEXT' });
const topic = uniqueTopic('bench-observability');
await createTopics(config, [topic]);
const payload = Buffer.alloc(64, 1);
const key = Buffer.from('SIM:BENCH');

/** A producer to the test broker: a delivery report for every message unless `settings` say otherwise. */
function producerWith(settings: Record<string, string | number | boolean>): Promise<RdKafka.Producer> {
  return connectedProducer({ ...config, 'linger.ms': '5', dr_cb: true, ...settings });
}

/** CPU µs per message for producing MESSAGES and flushing them. */
async function cpuPerMessage(producer: RdKafka.Producer): Promise<number> {
  const cpuBefore = process.cpuUsage();
  for (let sent = 0; sent < MESSAGES; sent += PER_TICK) {
    for (let index = 0; index < PER_TICK; index++) producer.produce(topic, null, payload, key, Date.now());
    await sleep(TICK_MS);
  }
  await new Promise<void>((resolveFlush) => producer.flush(60_000, () => resolveFlush()));
  const cpu = process.cpuUsage(cpuBefore);
  return (cpu.user + cpu.system) / MESSAGES;
}

const everyReport = await producerWith({});
let reports = 0;
everyReport.on('delivery-report', () => reports++);
const failuresOnly = await producerWith({
  'delivery.report.only.error': true,
  'statistics.interval.ms': STATISTICS_INTERVAL_MS,
});
let statistics = 0;
failuresOnly.on('event.stats', () => statistics++);
await cpuPerMessage(everyReport);
await cpuPerMessage(failuresOnly);
let best = { every: Infinity, failures: Infinity };
for (let round = 0; round < 7; round++) {
  // Alternate which goes first, so neither profits from the other's warm-up.
  const [first, second] = round % 2 === 0 ? [everyReport, failuresOnly] : [failuresOnly, everyReport];
  const firstCpu = await cpuPerMessage(first);
  const secondCpu = await cpuPerMessage(second);
  const [every, failures] = round % 2 === 0 ? [firstCpu, secondCpu] : [secondCpu, firstCpu];
  best = { every: Math.min(best.every, every), failures: Math.min(best.failures, failures) };
}
line('librdkafka CPU/message, report per message', best.failures * 1000, best.every * 1000, 'ns');
console.log(
  `  (without: failure reports only and ${statistics} statistics events; with: ${reports} reports handled)`,
);
for (const producer of [everyReport, failuresOnly])
  await new Promise<void>((resolveDisconnect) => producer.disconnect(() => resolveDisconnect()));
if (sink === 0) console.log('');
process.exit(0);
