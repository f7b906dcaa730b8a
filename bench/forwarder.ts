/**
 * End-to-end forwarder benchmark: a real IOC (EPICS base softIoc from pvxslibs, CA and PVA) serving N counting
 * PVs that change at R Hz, the real Kafka broker, and forwarder-launch (compiled, as deployed) forwarding them as
 * f144 (plus al00 and ep01) over CA or PVA. Everything on loopback.
 *
 * Per (protocol, N, R) step (bench/forwarder/steps.ts): the streams are stored in the storage topic before the
 * forwarder starts, so it restores them at start-up; the time until every PV has a value in Kafka is the connect
 * time. Then the IOC's gate record runs the load for a window; afterwards the data topic (created with
 * LogAppendTime) is read back from the start. Each record counts its own processings, so the IOC's final values
 * say exactly what it served; Kafka says what was forwarded (loss = served − forwarded, per PV), and the broker's
 * append time minus the EPICS timestamp is the latency. CPU comes from /proc/<pid>/stat of the forwarder, memory
 * from /proc/<pid>/status.
 *
 * Ceilings in the same run (bench/forwarder/ceilings.ts): (a) our KafkaProducer alone sending pre-serialised f144
 * messages of the same sizes (and librdkafka with a delivery report for every message, to show their cost); (b)
 * our EPICS client alone receiving the same IOC load. The forwarder's throughput is reported as a fraction of
 * min(a, b).
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
 * time, per 5 ms of EPICS time from the load's first update (CSV: ms, updates, p50, p99, max). --spread: the IOC
 * spreads each pass of its records over the scan period (a smooth load). --source stream: the load comes from the
 * PVA stream server (test/support/pva-stream-server.ts, PVA only) instead of the IOC: N PVs, N × R updates/s in
 * total, round-robin and paced every 5 ms, each PV's value counting its updates; it needs far less CPU than QSRV.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import { clientConfig } from '../test/support/kafka.js';
import { loadAverage, progress, thousands } from './format.js';
import { runCeilings } from './forwarder/ceilings.js';
import { build } from './forwarder/launch.js';
import { describeMachine, printSteps } from './forwarder/report.js';
import type { BenchSettings, EpicsProtocolName, Step } from './forwarder/settings.js';
import { forwarderStep, type StepResult, zeroLossRate } from './forwarder/steps.js';

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
const parseSteps = (text: string): Step[] =>
  text.split(',').map((item) => {
    const [pvs, hz] = item.split('x').map(Number);
    return { pvs: pvs ?? 0, hz: hz ?? 0, spread: cli.spread };
  });
const source = cli.source === 'stream' ? 'stream' : 'ioc';
const settings: BenchSettings = {
  source,
  launch: cli.launch === 'sources' ? 'sources' : 'build',
  protocols: (cli.protocol ?? (source === 'stream' ? ['pva'] : ['ca', 'pva'])) as EpicsProtocolName[],
  steps: parseSteps(
    cli.steps ?? (cli.quick ? '1000x10,1000x100' : '1000x10,1000x30,1000x50,1000x100,10000x10,15000x10'),
  ),
  windowS: Number(cli.seconds ?? (cli.quick ? 3 : 5)),
  kafkaConfig: cli['kafka-config'] ?? [],
  nodeOptions: cli['node-option'] ?? [],
  cpuProfile: cli['cpu-prof'],
  heapSnapshot: cli['heap-snapshot'],
  memoryDetail: cli['memory-detail'],
  forwarderOutput: cli['forwarder-output'],
  latencyTrace: cli['latency-trace'],
};

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-forwarder-'));
  console.log(`Forwarder end-to-end benchmark — ${describeMachine()}`);
  console.log(`load average at start: ${loadAverage()} (1/5/15 min); window ${settings.windowS} s per step`);
  if (settings.launch === 'build') build();
  progress('starting the Kafka broker');
  const broker = await TestKafkaBroker.start();
  const kafkaConfig = clientConfig(broker.info, { listener: 'PLAINTEXT' });
  const brokerAddress = broker.info.listeners.PLAINTEXT;
  try {
    const summary: string[] = [];
    const allResults: StepResult[] = [];
    for (const protocol of cli['only-ceilings'] ? [] : settings.protocols) {
      console.log(
        `\n${protocol.toUpperCase()}: forwarder-launch (${settings.launch === 'build' ? 'bin/forwarder-launch, compiled dist/' : 'from sources through tsx'}), f144 + al00 + ep01, ${settings.source === 'stream' ? 'the PVA stream server' : 'one IOC'}`,
      );
      const results: StepResult[] = [];
      for (const step of settings.steps) {
        progress(`${protocol} ${step.pvs} PVs x ${step.hz} Hz`);
        results.push(await forwarderStep(settings, kafkaConfig, brokerAddress, protocol, step, directory));
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
        results.push(await forwarderStep(settings, kafkaConfig, brokerAddress, protocol, half, directory));
      }
      printSteps(settings, results);
      allResults.push(...results);
      if (best) {
        summary.push(
          `${protocol}: sustained with zero loss ${thousands(saturated)} updates/s (${best.step.pvs} PVs x ${best.step.hz} Hz)`,
        );
      } else summary.push(`${protocol}: no step without loss`);
    }
    if (!cli['no-ceilings'])
      summary.push(...(await runCeilings(settings, kafkaConfig, directory, allResults)));
    console.log('\nSummary');
    for (const line of summary) console.log(`  ${line}`);
    console.log(`load average at end: ${loadAverage()}`);
  } finally {
    await broker.destroy();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
