/**
 * What an operator finds in the log: a forwarder started with 2,000 CA streams, half of them PVs nobody serves,
 * left 40 s (long enough for the line of PVs never connected), then its IOC killed and restarted, then stopped.
 * Counts the log lines by level, and the kinds of line (digits and names folded) of each level, for this tree and,
 * with --before DIR, for another checkout of the forwarder with its dist/ built (the baseline, run first).
 *
 * Run: npx tsx bench/operator-log.ts [--before /path/to/other/checkout] [--streams 2000]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Protocol, serialiseFc00, UpdateType } from '../src/schemas/index.js';
import { TestIoc } from '../test/support/ioc.js';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import { clientConfig, createTopics, produceMessages, uniqueTopic } from '../test/support/kafka.js';
import { repoRoot } from '../test/support/paths.js';
import { countingDatabase, counterName } from './load-ioc.js';
import { loadAverage, progress, thousands } from './format.js';

const { values } = parseArgs({
  options: { before: { type: 'string' }, streams: { type: 'string', default: '2000' } },
});
const streamCount = Number(values.streams);
if (!Number.isInteger(streamCount) || streamCount < 2 || streamCount % 2 !== 0) {
  console.error('usage: bench/operator-log.ts [--before DIR] [--streams EVEN_NUMBER]');
  process.exit(2);
}

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type Level = (typeof LEVELS)[number];

interface Run {
  readonly name: string;
  readonly lines: number;
  readonly byLevel: Record<Level, number>;
  /** Kinds of line per level, most frequent first. */
  readonly kinds: Record<Level, [kind: string, count: number][]>;
}

function levelOf(line: string): Level | undefined {
  const match = /\b(error|warn|info|debug)\b/i.exec(line.slice(0, 60));
  return match ? (match[1]?.toLowerCase() as Level) : undefined;
}

/** A line without its time and level, numbers and PV names folded, so that lines of one kind count together. */
function kindOf(line: string, prefix: string): string {
  const level = /\b(error|warn|info|debug)\b:?\s*/i.exec(line);
  const text = level ? line.slice(level.index + level[0].length) : line;
  return text
    .replaceAll(prefix, 'PV:')
    .replace(/\d+/g, 'N')
    .replace(/\{.*\}$/, '{...}')
    .slice(0, 90);
}

async function run(name: string, root: string, broker: TestKafkaBroker['info'], ioc: TestIoc): Promise<Run> {
  const config = clientConfig(broker, { listener: 'PLAINTEXT' });
  const topics = {
    config: uniqueTopic('log-config'),
    status: uniqueTopic('log-status'),
    data: uniqueTopic('log-data'),
  };
  await createTopics(config, Object.values(topics));
  const address = broker.listeners.PLAINTEXT;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(root, 'bin', 'forwarder-launch'),
      '--config-topic',
      `${address}/${topics.config}`,
      '--status-topic',
      `${address}/${topics.status}`,
      '--output-broker',
      address,
    ],
    { cwd: root, env: { ...process.env, ...ioc.clientEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!/Listening for commands/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`${name} did not start:\n${output}`);
    await sleep(200);
  }
  const half = streamCount / 2;
  const stream = (channel: string) => ({
    channel,
    protocol: Protocol.CA,
    schema: 'f144',
    topic: topics.data,
    periodic: 0,
  });
  const streams = [
    ...Array.from({ length: half }, (_, index) => stream(ioc.pv(counterName(index)))),
    ...Array.from({ length: half }, (_, index) => stream(ioc.pv(`missing:${index}`))),
  ];
  await produceMessages(config, topics.config, [
    { value: Buffer.from(serialiseFc00({ configChange: UpdateType.ADD, streams })) },
  ]);
  progress(
    `${name}: ${thousands(streamCount)} streams added; waiting 40 s, then the IOC is killed and restarted`,
  );
  await sleep(40_000);
  await ioc.kill();
  await sleep(5_000);
  await ioc.start();
  await sleep(15_000);
  child.kill('SIGTERM');
  await once(child, 'exit');
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  const byLevel = { error: 0, warn: 0, info: 0, debug: 0 };
  const kinds = {
    error: new Map<string, number>(),
    warn: new Map<string, number>(),
    info: new Map<string, number>(),
    debug: new Map<string, number>(),
  };
  for (const line of lines) {
    const level = levelOf(line);
    if (level === undefined) continue;
    byLevel[level]++;
    const kind = kindOf(line, ioc.prefix);
    kinds[level].set(kind, (kinds[level].get(kind) ?? 0) + 1);
  }
  const sorted = (map: Map<string, number>): [string, number][] => [...map].sort((a, b) => b[1] - a[1]);
  return {
    name,
    lines: lines.length,
    byLevel,
    kinds: {
      error: sorted(kinds.error),
      warn: sorted(kinds.warn),
      info: sorted(kinds.info),
      debug: sorted(kinds.debug),
    },
  };
}

progress(
  `load average ${loadAverage()}; starting a Kafka broker and an IOC of ${thousands(streamCount / 2)} records`,
);
const broker = await TestKafkaBroker.start();
const database = join(tmpdir(), `operator-log-${process.pid}.db`);
// 10 updates/s per record while running; the gate stays closed, so each record is processed once, at start.
writeFileSync(database, countingDatabase(streamCount / 2, 10));
const ioc = await TestIoc.start({ databases: [database] });
const runs: Run[] = [];
try {
  if (values.before !== undefined) runs.push(await run('before', values.before, broker.info, ioc));
  runs.push(await run('this tree', repoRoot, broker.info, ioc));
} finally {
  await ioc.stop();
  await broker.destroy();
}

console.log(
  `Log of a start with ${thousands(streamCount)} CA streams (half never connect), 40 s, an IOC restart, a stop; load average ${loadAverage()}`,
);
console.log(['run'.padEnd(12), 'lines'.padStart(8), ...LEVELS.map((level) => level.padStart(8))].join(''));
for (const each of runs) {
  console.log(
    [
      each.name.padEnd(12),
      String(each.lines).padStart(8),
      ...LEVELS.map((level) => String(each.byLevel[level]).padStart(8)),
    ].join(''),
  );
}
for (const each of runs) {
  console.log(`\n${each.name}: kinds of line (PV names as PV:, numbers as N)`);
  for (const level of LEVELS) {
    for (const [kind, count] of each.kinds[level].slice(0, 12))
      console.log(`  ${level.padEnd(6)}${String(count).padStart(6)}  ${kind}`);
  }
}
