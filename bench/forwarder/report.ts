/** What the end-to-end benchmark prints: the machine, a table of steps, the command that repeats each row. */
import { cpus, totalmem } from 'node:os';
import { fixed, thousands } from '../format.js';
import { percentile } from './latency.js';
import type { BenchSettings, EpicsProtocolName, Step } from './settings.js';
import type { StepResult } from './steps.js';

export function describeMachine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (${model}), ${fixed(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}`;
}

/** The command that runs the benchmark as this run does, before the options that choose what it measures. */
export const benchCommand = (settings: BenchSettings): string =>
  `scripts/run npx tsx bench/forwarder.ts${settings.launch === 'sources' ? ' --launch sources' : ''}`;

const stepCommand = (settings: BenchSettings, protocol: EpicsProtocolName, step: Step): string =>
  `${benchCommand(settings)}${settings.kafkaConfig.map((property) => ` --kafka-config ${property}`).join('')}${settings.nodeOptions.map((option) => ` --node-option=${option}`).join('')}${step.spread && settings.source === 'ioc' ? ' --spread' : ''}${settings.source === 'stream' ? ' --source stream' : ''} --protocol ${protocol} --steps ${step.pvs}x${step.hz} --seconds ${settings.windowS} --no-ceilings --no-latency-step`;

export function printSteps(settings: BenchSettings, results: readonly StepResult[]): void {
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
  for (const r of results) console.log(`    ${stepCommand(settings, r.protocol, r.step)}`);
}
