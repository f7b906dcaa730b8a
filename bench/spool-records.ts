/**
 * The disk spool's own CPU per record, without Kafka, EPICS or the rest of the forwarder: what `npm run
 * bench:spool` cannot separate from the live updates and the Kafka binding. Messages of that benchmark's shape
 * (10,000 keys of a 20-odd-character PV name, an 88-byte f144 payload, one topic) go through a SpoolingProducer in
 * front of a stand-in producer: first while the stand-in's queue is "full" (every message is appended and waits:
 * the live path while a backlog exists), then replayed once it takes them (read back, checked, handed over and
 * counted for acknowledgement). The baseline, in the same run: the same messages handed to the stand-in directly.
 * Figures are the process's CPU time (all threads, the garbage collector's included) per record, best of the
 * rounds after the first (V8's warm-up).
 *
 * Usage: npx tsx bench/spool-records.ts [--records N] [--rounds N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from '../src/logging/logger.js';
import { Spool } from '../src/spool/spool.js';
import { SpoolingProducer, type SpoolTarget } from '../src/spool/spooling-producer.js';
import { fixed, thousands } from './format.js';

const { values: cli } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '4' },
  },
});
const records = Number(cli.records);
const rounds = Number(cli.rounds);

const TOPIC = 'forwarder-data';
const keys = Array.from({ length: 10_000 }, (_, i) =>
  Buffer.from(`BENCH:COUNTER:${String(i).padStart(5, '0')}`),
);
const payload = new Uint8Array(88).fill(7);

/** A producer that takes every message (counting it), or, while `full`, none. */
class StandIn implements SpoolTarget {
  full = false;
  taken = 0;
  tryProduce(): 'queued' | 'full' {
    if (this.full) return 'full';
    this.taken++;
    return 'queued';
  }
  refused(): void {}
  onStatistics(): void {}
  async flush(): Promise<boolean> {
    return true;
  }
  async close(): Promise<boolean> {
    return true;
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

/** CPU microseconds of the process (all threads) while `work` runs. */
async function cpuMicros(work: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const { user, system } = process.cpuUsage(before);
  return user + system;
}

const untilDrained = (spool: Spool): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => {
      if (spool.hasWaiting) setImmediate(check);
      else resolve();
    };
    check();
  });

interface Round {
  readonly direct: number;
  readonly append: number;
  readonly replay: number;
}

async function round(): Promise<Round> {
  const direct = new StandIn();
  const directMicros = await cpuMicros(() => {
    for (let i = 0; i < records; i++) direct.tryProduce();
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-spool-records-'));
  try {
    const spool = Spool.open({ dir, sync: false, maxBytes: 64 * 2 ** 30 });
    const target = new StandIn();
    const producer = new SpoolingProducer(target, spool, quiet, async () => []);
    target.full = true;
    const appendMicros = await cpuMicros(() => {
      for (let i = 0; i < records; i++)
        producer.send(TOPIC, keys[i % keys.length] as Buffer, payload, 1e12 + i);
    });
    // The statistics tell the partition count, as librdkafka's first reading does.
    spool.onStatistics(new Map([[TOPIC, { partitionCount: 1, partitions: new Map() }]]), 0);
    target.full = false;
    const replayMicros = await cpuMicros(() => untilDrained(spool));
    await producer.close(0);
    if (target.taken !== records) throw new Error(`replayed ${target.taken} of ${records}`);
    return {
      direct: directMicros / records,
      append: appendMicros / records,
      replay: replayMicros / records,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Round[] = [];
for (let i = 0; i < rounds; i++) results.push(await round());
const best = (pick: (r: Round) => number): number => Math.min(...results.slice(1).map(pick));
console.log(
  `Spool records — ${thousands(records)} records per round, ${rounds} rounds, best after the first`,
);
console.log(
  `  baseline, handed to the stand-in directly: ${fixed(
    best((r) => r.direct),
    3,
  )} µs CPU/record`,
);
console.log(
  `  appended while Kafka is away:              ${fixed(
    best((r) => r.append),
    3,
  )} µs CPU/record`,
);
console.log(
  `  replayed:                                  ${fixed(
    best((r) => r.replay),
    3,
  )} µs CPU/record`,
);
console.log(
  `  per round, append/replay µs: ${results.map((r) => `${fixed(r.append, 2)}/${fixed(r.replay, 2)}`).join('  ')}`,
);
