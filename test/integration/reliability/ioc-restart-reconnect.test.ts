/**
 * How soon streams resume after an IOC (re)start, CA against PVA (docs/reliability.md, "IOC restarted"; the
 * pvAccess side is docs/protocols/pvaccess.md, "Beacons"): one forwarder forwards the same 10 Hz counting
 * records of one IOC over both protocols. Started before the IOC, the forwarder must connect PVA within about a
 * second of the IOC's start; then the IOC is killed and started again after outages of different lengths, and
 * each time the first value forwarded over PVA must come within 1 s of the first one over CA. Figures are
 * printed as `#` lines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forwarded, plainValue, waitForForwarded } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { serialiseFc00, UpdateType } from '../../../src/schemas/index.js';

const world = ForwarderWorld.setUp({ extraTopics: ['pva'] });

/** Records that count at 10 Hz. */
const RECORDS = ['tick', 'sine'] as const;
/**
 * Outages (kill to start) chosen across the search back-off of a channel that lost its server (searches at once,
 * then 1, 3, 6, 10, 15 s after the loss): without beacons a restart lands anywhere between two searches.
 */
const OUTAGES_MS = [1_500, 3_500, 5_000, 8_000, 12_000];
/** How long the forwarder searches in vain before the IOC first starts: past its third search. */
const LATE_START_MS = 8_000;
const PVA_BEHIND_CA_LIMIT_MS = 1_000;
const PVA_AFTER_START_LIMIT_MS = 1_500;

const PROTOCOLS = world.caAndPva;

interface FirstValue {
  readonly timestampNs: bigint;
  readonly value: number;
}

const ms = (ns: bigint): number => Number(ns / 1_000_000n);

describe('forwarder: streams after an IOC start and restarts, CA against PVA', { timeout: 240_000 }, () => {
  it('forwards the first value after each (re)start over PVA within 1 s of CA', async () => {
    const pv = (record: string): string => world.ioc.pv(record);
    await world.ioc.stop();
    await world.startForwarder(world.standardArguments());
    const streams = world.f144StreamsOverCaAndPva(RECORDS);
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));

    /** The first value of each stream stamped after `sinceNs`, waiting for all of them. */
    const firstValues = async (sinceNs: bigint, what: string): Promise<Map<string, FirstValue>> => {
      const first = new Map<string, FirstValue>();
      for (const { name, topic } of PROTOCOLS) {
        for (const record of RECORDS) {
          const [message] = (
            await waitForForwarded(
              world.reader,
              topic(),
              'f144',
              pv(record),
              (messages) => messages.some((m) => m.message.timestampNs > sinceNs),
              { what: `${record} over ${name} ${what}`, timeoutMs: 40_000 },
            )
          ).filter((m) => m.message.timestampNs > sinceNs);
          const { timestampNs, value } = message!.message;
          first.set(`${name} ${record}`, { timestampNs, value: Number(plainValue(value)) });
        }
      }
      return first;
    };

    /** Asserts PVA's first values against CA's and against the IOC's start; returns PVA's lag per record. */
    const compare = (what: string, first: Map<string, FirstValue>, runningNs: bigint): number[] =>
      RECORDS.map((record) => {
        const ca = first.get(`CA ${record}`)!;
        const pva = first.get(`PVA ${record}`)!;
        const lagMs = ms(pva.timestampNs - ca.timestampNs);
        console.log(
          `# ${what}, ${record}: first value over CA ${ms(ca.timestampNs - runningNs)} ms after the IOC ` +
            `ran, over PVA ${ms(pva.timestampNs - runningNs)} ms; PVA ${lagMs} ms behind CA` +
            (record === 'tick' ? ` (${pva.value - ca.value} ticks)` : ''),
        );
        assert.ok(lagMs <= PVA_BEHIND_CA_LIMIT_MS, `${what}, ${record}: PVA ${lagMs} ms behind CA`);
        return lagMs;
      });

    // The forwarder searches in vain, then the IOC starts.
    await sleep(LATE_START_MS);
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    await world.ioc.start();
    const runningNs = BigInt(Date.now()) * 1_000_000n;
    const atStart = await firstValues(startedNs, 'after the IOC started');
    compare(`IOC started ${LATE_START_MS / 1000} s after the forwarder`, atStart, runningNs);
    for (const record of RECORDS) {
      const afterStart = ms(atStart.get(`PVA ${record}`)!.timestampNs - runningNs);
      assert.ok(afterStart <= PVA_AFTER_START_LIMIT_MS, `${record}: PVA ${afterStart} ms after the IOC ran`);
    }

    const lags: number[] = [];
    for (const [index, outageMs] of OUTAGES_MS.entries()) {
      await sleep(1_000);
      const killedNs = BigInt(Date.now()) * 1_000_000n;
      await world.ioc.kill();
      await sleep(outageMs);
      await world.ioc.start();
      const restartRunningNs = BigInt(Date.now()) * 1_000_000n;
      const first = await firstValues(killedNs, `after restart ${index + 1}`);
      lags.push(...compare(`restart ${index + 1} after ${outageMs / 1000} s`, first, restartRunningNs));
    }
    console.log(
      `# PVA behind CA over ${OUTAGES_MS.length} restarts: ${Math.min(...lags)} to ${Math.max(...lags)} ms`,
    );

    // Nothing forwarded twice along the way.
    for (const { name, topic } of PROTOCOLS) {
      for (const record of RECORDS) {
        const times = forwarded(world.reader, topic(), 'f144', pv(record)).map((m) => m.message.timestampNs);
        assert.equal(new Set(times).size, times.length, `${name} ${record}: no value twice`);
      }
    }
  });
});
