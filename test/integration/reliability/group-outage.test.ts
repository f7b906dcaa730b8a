/**
 * A Kafka outage longer than the group session timeout under a forwarding group (docs/scaling.md, "Lost session").
 * Two members share 20 counting PVs at 10 Hz; the private broker is stopped for 15 s (the session timeout is 6 s),
 * so both members lose their sessions. They keep forwarding into their producers' buffers, and once Kafka is back
 * they rejoin and settle: every value the IOC made while the group ran arrives, none is lost.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { counterName, countingDatabase, GATE } from '../../../bench/load-ioc.js';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import { caPut } from '../../support/ca-recorder.js';
import { ForwarderProcess } from '../../support/forwarder.js';
import { TestIoc } from '../../support/ioc.js';
import { uniqueTopic } from '../../support/kafka.js';
import { ReliabilityWorld, sleep } from './world.js';

const PV_COUNT = 20;
const OUTAGE_MS = 15_000;
const SESSION_TIMEOUT_MS = 6_000;

const world = ReliabilityWorld.setUp({ ioc: false });
let ioc: TestIoc;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ekf-group-outage-'));
  const database = join(dir, 'counters.db');
  writeFileSync(database, countingDatabase(PV_COUNT, 10));
  ioc = await TestIoc.start({ databases: [database] });
});
after(async () => {
  await ioc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The number of streams a member said it forwards in its newest ownership line. */
function forwarding(member: ForwarderProcess): number | undefined {
  const counts = [...member.output.matchAll(/forwarding (\d+) of \d+/g)];
  const last = counts.at(-1)?.[1];
  return last === undefined ? undefined : Number(last);
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(200);
  }
}

describe('forwarding group: Kafka down for longer than the session timeout', { timeout: 240_000 }, () => {
  it('keeps forwarding through the lost sessions and loses nothing', async () => {
    const topics = await world.topics('config', 'status', 'storage', 'data');
    const groupId = uniqueTopic('outage-group');
    const members = ['o1', 'o2'].map((serviceId) =>
      ForwarderProcess.start(
        [
          '--config-topic',
          world.uri(topics.config),
          '--status-topic',
          world.uri(topics.status),
          '--output-broker',
          world.uri(),
          '--storage-topic',
          world.uri(topics.storage),
          '--service-id',
          serviceId,
          '--group-id',
          groupId,
          '--group-session-timeout',
          String(SESSION_TIMEOUT_MS),
        ],
        ioc.clientEnv,
      ),
    );
    world.forwarders.push(...members);
    await Promise.all(members.map((member) => member.waitForOutput(/Joining forwarding group/, 60_000)));
    const pvs = Array.from({ length: PV_COUNT }, (_, i) => ioc.pv(counterName(i)));
    await world.send(topics.config, [
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: pvs.map((channel) => ({
          channel,
          schema: 'f144',
          topic: topics.data,
          protocol: Protocol.CA,
          periodic: 0,
        })),
      }),
    ]);
    const shared = (): boolean =>
      members.every((member) => (forwarding(member) ?? 0) > 0) &&
      members.reduce((sum, member) => sum + (forwarding(member) ?? 0), 0) === PV_COUNT;
    await until(shared, 60_000, 'sharing the PVs between both members');
    await caPut(ioc.clientEnv, [[ioc.pv(GATE), 1]]);
    await sleep(3_000);

    await world.broker.stop();
    await sleep(OUTAGE_MS);
    await world.broker.start();
    await Promise.all(
      members.map((member) => member.waitForOutput(/lost partitions[\s\S]*assigned partitions/, 60_000)),
    );
    await until(shared, 60_000, 'sharing the PVs again after the outage');
    await sleep(3_000);
    await caPut(ioc.clientEnv, [[ioc.pv(GATE), 0]]);
    await sleep(2_000);
    for (const member of members) assert.equal((await member.stop('SIGTERM')).code, 0);

    const messages = await world.readAll(topics.data);
    let missing = 0;
    let duplicates = 0;
    let updates = 0;
    for (const pv of pvs) {
      const values = messages
        .filter((message) => message.key === pv && message.decoded?.schema === 'f144')
        .map((message) => (message.decoded?.message as { value: { value: unknown } }).value.value)
        .map(Number);
      const unique = [...new Set(values)].sort((a, b) => a - b);
      updates += values.length;
      duplicates += values.length - unique.length;
      // Counters start at 1 and count every processing: any hole between the first and last value is a loss.
      missing += (unique.at(-1) ?? 0) - (unique[0] ?? 0) + 1 - unique.length;
    }
    console.log(
      `# group of 2, Kafka down ${OUTAGE_MS / 1000} s (session timeout ${SESSION_TIMEOUT_MS / 1000} s): ` +
        `${updates} updates of ${PV_COUNT} PVs on the topic, ${missing} missing, ${duplicates} forwarded twice`,
    );
    assert.equal(missing, 0, 'no value lost');
    for (const member of members) assert.match(member.output, /lost partitions/);
  });
});
