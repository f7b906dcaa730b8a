/**
 * What the forwarder is measured against, in the same run: (a) our KafkaProducer alone sending pre-serialised
 * f144 messages as fast as librdkafka takes them (and librdkafka with a report per message), (c) Kafka's own
 * share of the latency at a steady rate, and (b) our EPICS client alone receiving the step's load.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaClient } from '../../src/epics/ca/client.js';
import { PvaClient } from '../../src/epics/pva/client.js';
import { KafkaProducer, PRODUCER_DEFAULTS } from '../../src/kafka/producer.js';
import { silentLogger } from '../../src/logging/logger.js';
import { deserialiseF144, serialiseF144 } from '../../src/schemas/index.js';
import { createTopics, uniqueTopic } from '../../test/support/kafka.js';
import { fixed, progress, thousands } from '../format.js';
import { counterName } from '../load-ioc.js';
import { connectedProducer } from '../producer.js';
import { percentile } from './latency.js';
import { benchCommand } from './report.js';
import {
  type BenchSettings,
  CONNECT_DEADLINE_MS,
  type EpicsProtocolName,
  QUIET_MS,
  type Step,
} from './settings.js';
import { scalarOf, withSource } from './sources.js';
import type { StepResult } from './steps.js';
import { TopicScan } from './topic.js';

interface CeilingResult {
  rate: number;
  cpuS: number;
  count: number;
  note: string;
}

/**
 * Measures and prints the ceilings for the steps of the highest offered rate, each forwarder result at that load
 * as a fraction of min(a, b). Returns the summary lines.
 */
export async function runCeilings(
  settings: BenchSettings,
  kafkaConfig: Record<string, string>,
  directory: string,
  results: readonly StepResult[],
): Promise<string[]> {
  const summary: string[] = [];
  console.log('\nCeilings (same run, same machine)');
  // The client ceiling at every step of the highest offered rate (few fast PVs and many slow ones differ).
  const highest = Math.max(...settings.steps.map((step) => step.pvs * step.hz));
  const biggestSteps = settings.steps.filter((step) => step.pvs * step.hz === highest);
  const steps = biggestSteps.map((step) => `${step.pvs}x${step.hz}`).join(',');
  const names = Array.from({ length: 1000 }, (_, i) => `BENCHPREFIX${i % 10}:${counterName(i)}`);
  progress('producer ceiling');
  const shipped = await producerCeiling(settings, kafkaConfig, names, false);
  const reportEach = await producerCeiling(settings, kafkaConfig, names, true);
  console.log(
    `  (a) KafkaProducer (as the forwarder: failure reports only): ${thousands(shipped.rate)} msg/s, ${fixed((shipped.cpuS * 100_000) / shipped.count, 2)} CPU s/100k (${shipped.note})`,
  );
  console.log(
    `      librdkafka with a delivery report per message:       ${thousands(reportEach.rate)} msg/s, ${fixed((reportEach.cpuS * 100_000) / reportEach.count, 2)} CPU s/100k (${thousands(reportEach.reports)} reports handled by the end of the flush)`,
  );
  const latencyRate = Math.round(highest / 2);
  progress(`producer latency at ${thousands(latencyRate)} msg/s`);
  const kafkaLatency = await producerLatency(settings, kafkaConfig, latencyRate);
  console.log(
    `  (c) KafkaProducer alone, paced at ${thousands(latencyRate)} msg/s (half the highest offered rate): append - send p50/p99/max ${fixed(percentile(kafkaLatency.all, 0.5))}/${fixed(percentile(kafkaLatency.all, 0.99))}/${fixed(kafkaLatency.all.at(-1) ?? NaN)} ms, after its 1st s p99/max ${fixed(percentile(kafkaLatency.steady, 0.99))}/${fixed(kafkaLatency.steady.at(-1) ?? NaN)} ms`,
  );
  console.log(
    `      reproduce: ${benchCommand(settings)}${settings.source === 'stream' ? ' --source stream' : ''} --steps ${steps} --seconds ${settings.windowS} --only-ceilings`,
  );
  for (const protocol of settings.protocols) {
    for (const biggest of biggestSteps) {
      progress(`${protocol} client ceiling ${biggest.pvs} PVs x ${biggest.hz} Hz`);
      const client = await clientCeiling(settings, protocol, biggest, directory);
      console.log(
        `  (b) our ${protocol.toUpperCase()} client alone, ${biggest.pvs} PVs x ${biggest.hz} Hz: ${thousands(client.rate)} updates/s received, ${fixed((client.cpuS * 100_000) / Math.max(client.count, 1), 2)} CPU s/100k (${client.note})`,
      );
      const forwarder = results.find((r) => r.protocol === protocol && r.step === biggest);
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
  return summary;
}

/**
 * (a) Producing pre-serialised f144 messages of the forwarder's sizes as fast as librdkafka takes them, for the
 * window; the rate counts the messages in the topic (its end offset) once a flush returned, over the window plus
 * the flush. With a report for every message, `reports` is how many had reached JavaScript by then.
 */
async function producerCeiling(
  settings: BenchSettings,
  kafkaConfig: Record<string, string>,
  names: readonly string[],
  reportEach: boolean,
): Promise<CeilingResult & { reports: number }> {
  const topic = uniqueTopic('bench-producer');
  await createTopics(kafkaConfig, [topic]);
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
  const end = started + settings.windowS * 1000;
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
  settings: BenchSettings,
  kafkaConfig: Record<string, string>,
  rate: number,
): Promise<{ all: Float64Array; steady: Float64Array }> {
  const topic = uniqueTopic('bench-latency');
  await createTopics(kafkaConfig, [topic], 1, { 'message.timestamp.type': 'LogAppendTime' });
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
      if (elapsed >= settings.windowS * 1000) {
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
  const producer = await connectedProducer({ ...PRODUCER_DEFAULTS, ...kafkaConfig, dr_cb: true });
  producer.on('delivery-report', onReport);
  return producer;
}

/** (b) Our EPICS client alone, in this process, receiving the load source's load for the window. */
async function clientCeiling(
  settings: BenchSettings,
  protocol: EpicsProtocolName,
  step: Step,
  directory: string,
): Promise<CeilingResult & { served: number }> {
  return withSource(settings.source, protocol, step, directory, async (source) => {
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
    await sleep(settings.windowS * 1000);
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
      note: `${settings.source === 'stream' ? 'stream server' : 'IOC'} served ${thousands(served / seconds)}/s`,
    };
  });
}
