/**
 * A real 3-broker Kafka cluster under steady forwarding (docs/reliability.md, "Kafka cluster"): 1,000 counting
 * records of a real IOC at 10 Hz, half over CA and half over PVA, into a data topic with a replica on every broker
 * and min.insync.replicas=2. The leader of the data topic's partition is killed with SIGKILL, started again, and
 * then all three brokers are restarted one after another. Every counter starts at 1 and counts up by one per
 * update, so the values on the topic tell exactly what is missing, duplicated or out of order: nothing may be.
 *
 * The data topic stamps each message with the time the broker appended it, so the topic also tells how long the
 * forwarder took to write to the new leader. CLUSTER_KAFKA_CONFIG (comma-separated key=value) adds librdkafka
 * properties, e.g. CLUSTER_KAFKA_CONFIG=enable.idempotence=false for the same run without idempotence.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { counterName, countingDatabase, GATE } from '../../../bench/load-ioc.js';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import { caGet, caPut } from '../../support/ca-recorder.js';
import { ForwarderProcess } from '../../support/forwarder.js';
import { TestIoc } from '../../support/ioc.js';
import { TestKafkaCluster } from '../../support/kafka-cluster.js';
import { createTopics, produceMessages, topicEndOffset, uniqueTopic } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { type ReadMessage, TopicReader } from '../../support/topic-reader.js';
import { producerTotals, rssMiB } from './world.js';

const PV_COUNT = 1_000;
const RATE_HZ = 10;
/** Forwarding before the kill, after the new leader took over, and after the rolling restart. */
const STEADY_MS = 15_000;
/** Appends further apart than this count as a pause in the forwarder's writing. */
const PAUSE_MS = 500;
/**
 * librdkafka's queue, in messages: it must hold what is made while no leader takes writes, 10 to 13 s after a
 * SIGKILL with Kafka's default broker.session.timeout.ms (9 s): up to 130,000 messages at 10,000 updates/s.
 * librdkafka's default, 100,000, is too small for that: the same run with it had 18,487 and 30,100 values refused.
 */
const QUEUE_MESSAGES = 500_000;

let cluster: TestKafkaCluster;
let ioc: TestIoc;
let dir: string;
const readers: TopicReader[] = [];
const forwarders: ForwarderProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ekf-cluster-'));
  const database = join(dir, 'counters.db');
  writeFileSync(database, countingDatabase(PV_COUNT, RATE_HZ, { spread: true }));
  [cluster, ioc] = await Promise.all([TestKafkaCluster.start(), TestIoc.start({ databases: [database] })]);
});
after(async () => {
  await Promise.all(forwarders.map((forwarder) => forwarder.stop('SIGKILL')));
  await Promise.race([Promise.all(readers.map((reader) => reader.close())), sleep(10_000)]);
  await ioc?.stop();
  await cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** What the topic says about one PV's counter. */
interface PvTally {
  readonly seen: Set<number>;
  last: number;
  duplicates: number;
  /** Values that arrived after a higher one. */
  reordered: number;
}

/** Every f144 value of the counting PVs as it is read, and when the broker appended it. */
class CountingTally {
  readonly pvs = new Map<string, PvTally>();
  messages = 0;
  /** Stretches without an append longer than PAUSE_MS: [last append before, first append after]. */
  readonly pauses: Array<[number, number]> = [];
  /** Longest wait of a value: broker append time minus its EPICS timestamp. */
  maxDelay = { ms: 0, atMs: 0 };
  /** Pauses and delays count from here on (the load's start: the first values were made at the IOC's start). */
  timedFromMs = Infinity;
  private lastAppendMs = 0;

  add(message: ReadMessage): void {
    this.messages++;
    const appendMs = message.timestampMs;
    const timed = appendMs >= this.timedFromMs;
    if (timed && this.lastAppendMs > 0 && appendMs - this.lastAppendMs > PAUSE_MS)
      this.pauses.push([this.lastAppendMs, appendMs]);
    this.lastAppendMs = Math.max(this.lastAppendMs, appendMs);
    if (message.key === null || message.decoded?.schema !== 'f144') return;
    const { value, timestampNs } = message.decoded.message;
    if (value.kind !== 'scalar') return;
    const counted = Number(value.value);
    const delayMs = appendMs - Number(timestampNs / 1_000_000n);
    if (timed && delayMs > this.maxDelay.ms) this.maxDelay = { ms: delayMs, atMs: appendMs };
    let tally = this.pvs.get(message.key);
    if (!tally) {
      tally = { seen: new Set(), last: 0, duplicates: 0, reordered: 0 };
      this.pvs.set(message.key, tally);
    }
    if (tally.seen.has(counted)) tally.duplicates++;
    else if (counted < tally.last) tally.reordered++;
    tally.seen.add(counted);
    tally.last = Math.max(tally.last, counted);
  }

  /** Per PV of `pvs`: every value from 1 to its final one at the IOC, once, in order? */
  check(
    pvs: readonly string[],
    finalValues: ReadonlyMap<string, unknown>,
  ): {
    missing: number;
    duplicates: number;
    reordered: number;
    valuesPerPv: number[];
  } {
    const result = { missing: 0, duplicates: 0, reordered: 0, valuesPerPv: [] as number[] };
    for (const pv of pvs) {
      const tally = this.pvs.get(pv);
      const final = Number(finalValues.get(pv));
      for (let value = 1; value <= final; value++) if (!tally?.seen.has(value)) result.missing++;
      result.valuesPerPv.push(tally?.seen.size ?? 0);
      result.duplicates += tally?.duplicates ?? 0;
      result.reordered += tally?.reordered ?? 0;
    }
    return result;
  }

  /** The pause around `atMs` (the last append before it, the first after), if appends paused then. */
  pauseAround(atMs: number): [number, number] | undefined {
    return this.pauses.find(([from, to]) => from <= atMs && atMs <= to);
  }

  /** The longest pause between `fromMs` and `toMs`, in ms (0 if none was longer than PAUSE_MS). */
  longestPause(fromMs: number, toMs: number): number {
    return Math.max(
      0,
      ...this.pauses.filter(([from]) => from >= fromMs && from <= toMs).map(([a, b]) => b - a),
    );
  }
}

/** forwarder-launch with every topic and its output on the cluster; resolves once it listens for commands. */
async function startForwarder(
  topics: { config: string; status: string; storage: string },
  httpPort: number,
): Promise<ForwarderProcess> {
  const uri = (topic = ''): string => `${cluster.bootstrap}${topic ? `/${topic}` : ''}`;
  const extraConfig = (process.env['CLUSTER_KAFKA_CONFIG'] ?? '')
    .split(',')
    .filter((entry) => entry !== '')
    .flatMap((entry) => ['--kafka-config', entry]);
  const forwarder = ForwarderProcess.start(
    [
      ...['--config-topic', uri(topics.config), '--status-topic', uri(topics.status)],
      ...['--storage-topic', uri(topics.storage), '--output-broker', uri()],
      ...['--http-address', `127.0.0.1:${httpPort}`, '--verbosity', 'Info'],
      ...['--kafka-config', `queue.buffering.max.messages=${QUEUE_MESSAGES}`],
      ...extraConfig,
    ],
    ioc.clientEnv,
  );
  forwarders.push(forwarder);
  await forwarder.waitForOutput(/Listening for commands/, 60_000);
  return forwarder;
}

/** The output producer's in-flight gauge on the forwarder's /metrics. */
async function outputInFlight(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const match = /^forwarder_kafka_in_flight_messages\{producer="output"\} (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

describe(
  'forwarder: a 3-broker Kafka cluster losing its leader and restarted broker by broker',
  { timeout: 900_000 },
  () => {
    it('delivers every value of 1,000 PVs at 10 Hz exactly once and in order per PV', async () => {
      const t0 = Date.now();
      const at = (ms: number): string => `${((ms - t0) / 1000).toFixed(1)} s`;
      const note = (what: string): void => console.log(`# ${at(Date.now())}: ${what}`);
      const kafkaConfig = cluster.clientConfig;
      const topics = {
        config: uniqueTopic('config'),
        status: uniqueTopic('status'),
        storage: uniqueTopic('storage'),
        data: uniqueTopic('data'),
      };
      await createTopics(kafkaConfig, [topics.config, topics.status, topics.storage]);
      await createTopics(kafkaConfig, [topics.data], 1, {
        'min.insync.replicas': '2',
        'message.timestamp.type': 'LogAppendTime',
      });
      const allTopics = Object.values(topics);
      await cluster.waitUntilInSync(allTopics);
      const [dataPartition] = await cluster.partitions(topics.data);
      assert.deepEqual([...(dataPartition?.replicas ?? [])].sort(), [1, 2, 3], 'a replica on every broker');

      const tally = new CountingTally();
      readers.push(
        await TopicReader.start(kafkaConfig, [topics.data], {
          keep: false,
          onMessage: (_, read) => tally.add(read),
        }),
      );
      const httpPort = await freePort();
      const forwarder = await startForwarder(topics, httpPort);

      const pvs = Array.from({ length: PV_COUNT }, (_, i) => ioc.pv(counterName(i)));
      await produceMessages(kafkaConfig, topics.config, [
        {
          value: Buffer.from(
            serialiseFc00({
              configChange: UpdateType.ADD,
              streams: pvs.map((channel, i) => ({
                channel,
                schema: 'f144',
                topic: topics.data,
                protocol: i % 2 === 0 ? Protocol.CA : Protocol.PVA,
                periodic: 0,
              })),
            }),
          ),
        },
      ]);
      // Every counter's first value (1, before the load starts) on the topic: all 1,000 subscriptions are live.
      const deadline = Date.now() + 90_000;
      while (tally.pvs.size < PV_COUNT) {
        if (Date.now() > deadline)
          throw new Error(
            `only ${tally.pvs.size} of ${PV_COUNT} PVs forwarded:\n${forwarder.output.slice(-3000)}`,
          );
        await sleep(250);
      }
      let peakInFlight = { messages: 0, atMs: 0 };
      const rss: number[] = [];
      const sampler = setInterval(() => {
        // Not once the stop at the end has begun: an exiting process has no resident set.
        if (forwarder.child.exitCode === null && forwarder.child.signalCode === null) {
          try {
            rss.push(rssMiB(forwarder.child.pid!));
          } catch {
            // Exited between the check and the read.
          }
        }
        void outputInFlight(httpPort)
          .then((messages) => {
            if (messages > peakInFlight.messages) peakInFlight = { messages, atMs: Date.now() };
          })
          .catch(() => undefined);
      }, 500);
      try {
        tally.timedFromMs = Date.now();
        await caPut(ioc.clientEnv, [[ioc.pv(GATE), 1]], 0);
        note('load on');
        await sleep(STEADY_MS);

        const [beforeKill] = await cluster.partitions(topics.data);
        const leader = beforeKill!.leader;
        const killedAt = Date.now();
        await cluster.killBroker(leader);
        note(`broker ${leader}, the data partition's leader, killed`);
        const [moved] = await cluster.waitForLeaders(topics.data, leader);
        const leaderMovedAt = Date.now();
        note(`broker ${moved!.leader} leads`);
        await sleep(STEADY_MS);
        await cluster.startBroker(leader);
        await cluster.waitUntilInSync(allTopics);
        note(`broker ${leader} back and in sync`);

        const rollingFrom = Date.now();
        const restartedAt: number[] = [];
        await cluster.rollingRestart(allTopics, (id) => {
          restartedAt.push(Date.now());
          note(`rolling restart: broker ${id}`);
        });
        const rollingTo = Date.now();
        note('rolling restart done');
        await sleep(STEADY_MS);
        await caPut(ioc.clientEnv, [[ioc.pv(GATE), 0]], 0);
        await sleep(2_000);
        const finalValues = await caGet(ioc.clientEnv, pvs);
        const stopped = await forwarder.stop('SIGTERM');
        assert.deepEqual(stopped, { code: 0, signal: null }, forwarder.output.slice(-3000));

        const written = await topicEndOffset(kafkaConfig, topics.data);
        const readDeadline = Date.now() + 120_000;
        while (tally.messages < written && Date.now() < readDeadline) await sleep(250);
        assert.equal(tally.messages, written, 'the reader read the whole data topic');

        const { missing, duplicates, reordered, valuesPerPv } = tally.check(pvs, finalValues);
        const totals = producerTotals(forwarder.output);
        const killPause = tally.pauseAround(killedAt);
        const report = {
          brokerKilled: leader,
          newLeader: moved!.leader,
          f144Values: valuesPerPv.reduce((sum, n) => sum + n, 0),
          valuesPerPv: { min: Math.min(...valuesPerPv), max: Math.max(...valuesPerPv) },
          missing,
          duplicates,
          reordered,
          messagesOnTopic: written,
          totals,
          leaderMovedAfterMs: leaderMovedAt - killedAt,
          // From the SIGKILL to the first message the new leader appended: the forwarder's move.
          forwarderMovedAfterMs: killPause ? killPause[1] - killedAt : 0,
          longestPauseInRollingRestartMs: tally.longestPause(rollingFrom, rollingTo),
          rollingRestartS: ((rollingTo - rollingFrom) / 1000).toFixed(1),
          brokerRestartsAtS: restartedAt.map((ms) => at(ms)),
          maxValueDelay: { ms: tally.maxDelay.ms, at: at(tally.maxDelay.atMs) },
          peakInFlight: { messages: peakInFlight.messages, at: at(peakInFlight.atMs) },
          rssMiB: { first: Math.round(rss[0] ?? NaN), max: Math.round(Math.max(...rss)) },
          pauses: tally.pauses.map(([from, to]) => `${at(from)} +${to - from} ms`),
        };
        console.log(`kafka cluster figures: ${JSON.stringify(report)}`);

        assert.equal(missing, 0, 'no value missing');
        assert.equal(duplicates, 0, 'no value twice');
        assert.equal(reordered, 0, 'every PV in order');
        assert.ok(Math.min(...valuesPerPv) > 1, 'every PV counted');
        assert.deepEqual(
          [totals.failedDelivery, totals.refused, totals.delivered],
          [0, 0, totals.queued],
          'everything queued was delivered',
        );
        assert.equal(written, totals.delivered, 'the topic holds exactly what was delivered');
      } finally {
        clearInterval(sampler);
      }
    });
  },
);
