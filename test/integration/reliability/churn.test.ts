/**
 * Churn (docs/reliability.md, "Stream churn"): thousands of ADD and REMOVE commands, for fake PVs and for IOC
 * records over CA and PVA, while a steady stream flows. After every round the forwarder reports exactly the
 * streams it should (status.json and the status topic), nothing removed keeps forwarding, and the heap (after a
 * full collection, gc-on-signal.mjs), resident memory and open file descriptors stay level from round to round.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Protocol, serialiseFc00, UpdateType, type Fc00Stream } from '../../../src/schemas/index.js';
import { forwarded, waitForForwarded, waitForStatus } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { produceMessages } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { rssMiB } from './world.js';

const world = ForwarderWorld.setUp();

const ROUNDS = Number(process.env['CHURN_ROUNDS'] ?? 5);
/** Commands per round: ADD and REMOVE pairs. */
const COMMANDS_PER_ROUND = 600;
const RECORDS = ['counter', 'tick', 'ai', 'mbbi', 'bi', 'longin', 'stringin', 'sine', 'state', 'bit'];

interface StatusJson {
  commands: { accepted: number; rejected: number };
  streams: Array<{ pv: string; protocol: string; topic: string; schema: string; state: string }>;
}

interface Sample {
  heapMiB: number;
  rssMiB: number;
  fds: number;
}

describe('forwarder: thousands of ADD and REMOVE commands while updates flow', { timeout: 240_000 }, () => {
  it('ends every round with exactly the steady stream, nothing left forwarding, and level memory', async () => {
    const port = await freePort();
    const forwarder = await world.startForwarder(
      world.standardArguments(['--http-address', `127.0.0.1:${port}`, '--fake-pv-period', '50']),
      { NODE_OPTIONS: `--expose-gc --import ${join(import.meta.dirname, 'gc-on-signal.mjs')}` },
    );
    const get = async (path: string): Promise<Response> => fetch(`http://127.0.0.1:${port}${path}`);
    const status = async (): Promise<StatusJson> => (await (await get('/status.json')).json()) as StatusJson;
    const sample = async (): Promise<Sample> => {
      forwarder.child.kill('SIGUSR2');
      await sleep(500);
      const metrics = await (await get('/metrics')).text();
      const heap = /^nodejs_heap_bytes\{kind="used"\} (\S+)$/m.exec(metrics)?.[1];
      return {
        heapMiB: Number(heap) / 2 ** 20,
        rssMiB: rssMiB(forwarder.child.pid!),
        fds: readdirSync(`/proc/${forwarder.child.pid}/fd`).length,
      };
    };
    const steady: Fc00Stream = {
      channel: 'steady',
      schema: 'f144',
      topic: world.topics.data,
      protocol: Protocol.FAKE,
      periodic: 0,
    };
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams: [steady] }));
    await waitForForwarded(world.reader, world.topics.data, 'f144', 'steady', (m) => m.length >= 5);

    const churnStreams = (i: number): Fc00Stream[] => {
      const record = (k: number): string => world.ioc.pv(RECORDS[(i + k) % RECORDS.length]!);
      const stream = (channel: string, protocol: Protocol, schema = 'f144'): Fc00Stream => ({
        channel,
        schema,
        topic: world.topics.data,
        protocol,
        periodic: i % 3 === 0 ? 1 : 0,
      });
      return [
        stream(`churn:${i % 50}`, Protocol.FAKE),
        stream(`churn:${(i + 1) % 50}`, Protocol.FAKE, 'f142'),
        stream(record(0), Protocol.CA),
        stream(record(1), Protocol.CA, 'f142'),
        stream(record(2), Protocol.PVA),
        stream(record(3), Protocol.PVA, 'f142'),
      ];
    };
    const samples: Sample[] = [];
    let commands = (await status()).commands.accepted;
    const startedAt = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      const payloads: Buffer[] = [];
      for (let pair = 0; pair < COMMANDS_PER_ROUND / 2; pair++) {
        const streams = churnStreams(round * COMMANDS_PER_ROUND + pair);
        payloads.push(Buffer.from(serialiseFc00({ configChange: UpdateType.ADD, streams })));
        payloads.push(Buffer.from(serialiseFc00({ configChange: UpdateType.REMOVE, streams })));
      }
      await produceMessages(
        world.kafkaConfig,
        world.topics.config,
        payloads.map((value) => ({ value })),
      );
      commands += payloads.length;
      const deadline = Date.now() + 60_000;
      let now = await status();
      while (now.commands.accepted < commands && Date.now() < deadline) {
        await sleep(200);
        now = await status();
      }
      assert.equal(now.commands.accepted, commands, `round ${round}: every command applied`);
      assert.equal(now.commands.rejected, 0);
      assert.deepEqual(
        now.streams.map((s) => [s.pv, s.protocol, s.topic, s.schema]),
        [['steady', 'fake', world.topics.data, 'f144']],
        `round ${round}: only the steady stream is left`,
      );
      await sleep(2_000);
      samples.push(await sample());
    }
    const churnMs = Date.now() - startedAt;

    // Nothing removed still forwards: no message but the steady stream's after a settling second.
    await sleep(1_000);
    const since = world.reader.of(world.topics.data).length;
    await sleep(3_000);
    const late = world.reader
      .of(world.topics.data)
      .slice(since)
      .filter((message) => message.key !== 'steady');
    assert.deepEqual(
      late.map((message) => message.key),
      [],
      'no removed stream forwards',
    );
    assert.ok(
      forwarded(world.reader, world.topics.data, 'f144', 'steady', since).length >= 20,
      'the steady stream kept flowing',
    );
    const statusSince = world.reader.of(world.topics.status).length;
    await waitForStatus(
      world,
      statusSince,
      (s) => s.length === 1 && s[0]!.channel_name === 'steady',
      'the status topic listing the steady stream alone',
    );

    const figures = {
      commands: ROUNDS * COMMANDS_PER_ROUND,
      churnMs,
      samples: samples.map((s) => ({
        heapMiB: +s.heapMiB.toFixed(1),
        rssMiB: +s.rssMiB.toFixed(1),
        fds: s.fds,
      })),
    };
    console.log(`churn figures: ${JSON.stringify(figures)}`);
    // The first round warms up (channels, code paths, librdkafka's topic state); later rounds must not grow.
    const settled = samples.slice(1);
    const growth = (key: keyof Sample): number =>
      settled.at(-1)![key] - Math.min(...settled.map((s) => s[key]));
    assert.ok(growth('heapMiB') < 3, `heap level (${growth('heapMiB').toFixed(1)} MiB)`);
    assert.ok(growth('rssMiB') < 20, `resident memory level (${growth('rssMiB').toFixed(1)} MiB)`);
    assert.ok(growth('fds') <= 2, `file descriptors level (${growth('fds')})`);
    assert.equal(forwarder.child.exitCode, null);
  });
});
