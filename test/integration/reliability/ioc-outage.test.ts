/**
 * IOC outages of 10 s, twice in a row, over CA and PVA (docs/reliability.md, "IOC outage"): every stream says
 * DISCONNECTED then CONNECTED (ep01) each time, updates resume, the alarm state (al00) matches the values
 * throughout, and no update is forwarded twice: a reconnect must not leave a second subscription behind.
 * A restarted record's first update (UDF, stamped with the EPICS epoch) is refused by the timestamp filter
 * after its alarm was noted, as in the ESS forwarder (docs/forwarding.md, "al00: alarms"), so an unchanged alarm may be sent again after a
 * restart: the check is on the alarm in force at every value, not on consecutive al00 differing.
 * (test/integration/forwarder/alarms-connection.test.ts covers one quick kill and restart in detail.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forwarded, plainValue, waitForForwarded, waitForStatus } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { Al00Severity, ConnectionInfo, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';

const world = ForwarderWorld.setUp({ extraTopics: ['pva'] });

const OUTAGE_MS = 10_000;
const OUTAGES = 2;
/** Records that change by themselves; mbbi and bi carry alarms that follow their values. */
const RECORDS = ['tick', 'counter', 'mbbi', 'bi'] as const;
/** The severity each alarmed record must have for a value. */
const EXPECTED_SEVERITY: Record<(typeof RECORDS)[number], (value: number) => Al00Severity> = {
  tick: () => Al00Severity.OK,
  counter: () => Al00Severity.OK,
  mbbi: (value) => (value === 3 ? Al00Severity.MAJOR : Al00Severity.OK),
  bi: (value) => (value === 1 ? Al00Severity.MINOR : Al00Severity.OK),
};

const PROTOCOLS = world.caAndPva;

describe('forwarder: IOC outages of 10 s, twice', { timeout: 180_000 }, () => {
  it('reconnects every stream each time with ep01, correct al00 and no doubled updates', async () => {
    const pv = (record: string): string => world.ioc.pv(record);
    await world.startForwarder(world.standardArguments());
    const streams = world.f144StreamsOverCaAndPva(RECORDS);
    const connectedCount = async (since: number, what: string): Promise<void> => {
      await waitForStatus(
        world,
        since,
        (s) => s.length === streams.length && s.every((entry) => entry.connection === 'connected'),
        what,
      );
    };
    let statusSince = world.reader.of(world.topics.status).length;
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
    await connectedCount(statusSince, 'every stream connected');

    const restartedAtNs: bigint[] = [];
    for (let outage = 1; outage <= OUTAGES; outage++) {
      await world.ioc.kill();
      for (const { name, topic } of PROTOCOLS) {
        for (const record of RECORDS) {
          await waitForForwarded(
            world.reader,
            topic(),
            'ep01',
            pv(record),
            (messages) =>
              messages.filter((m) => m.message.status === ConnectionInfo.DISCONNECTED).length >= outage,
            { what: `DISCONNECTED ${outage} of ${record} over ${name}`, timeoutMs: 30_000 },
          );
        }
      }
      await sleep(OUTAGE_MS);
      statusSince = world.reader.of(world.topics.status).length;
      await world.ioc.start();
      const restartNs = BigInt(Date.now()) * 1_000_000n;
      restartedAtNs.push(restartNs);
      await connectedCount(statusSince, `every stream connected after restart ${outage}`);
      // PVA reconnects as fast as CA: before the next kill, let the slowest record (1 Hz) update twice.
      for (const { name, topic } of PROTOCOLS) {
        for (const record of RECORDS) {
          await waitForForwarded(
            world.reader,
            topic(),
            'f144',
            pv(record),
            (messages) => messages.filter((m) => m.message.timestampNs > restartNs).length >= 2,
            { what: `2 updates of ${record} over ${name} after restart ${outage}`, timeoutMs: 30_000 },
          );
        }
      }
    }
    const lastRestartNs = restartedAtNs.at(-1)!;
    // Let the restarted IOC run long enough for every alarm band of mbbi (4 s cycle) and tick's 10 Hz.
    for (const { name, topic } of PROTOCOLS) {
      await waitForForwarded(
        world.reader,
        topic(),
        'f144',
        pv('mbbi'),
        (messages) => messages.filter((m) => m.message.timestampNs > lastRestartNs).length >= 6,
        { what: `mbbi updates after the last restart over ${name}`, timeoutMs: 30_000 },
      );
    }

    const figures: Record<string, unknown> = {};
    for (const { name, topic } of PROTOCOLS) {
      for (const record of RECORDS) {
        const what = `${name} ${record}`;
        const connection = forwarded(world.reader, topic(), 'ep01', pv(record)).map((m) => m.message.status);
        assert.deepEqual(
          connection,
          [
            ConnectionInfo.CONNECTED,
            ...Array.from({ length: OUTAGES }, () => [
              ConnectionInfo.DISCONNECTED,
              ConnectionInfo.CONNECTED,
            ]).flat(),
          ],
          `${what}: ep01 sequence`,
        );
        const values = forwarded(world.reader, topic(), 'f144', pv(record));
        const times = values.map((m) => m.message.timestampNs);
        assert.equal(new Set(times).size, times.length, `${what}: no update forwarded twice`);
        const afterRestarts = restartedAtNs.map(
          (restartNs, i) =>
            values.filter(
              (m) =>
                m.message.timestampNs > restartNs &&
                m.message.timestampNs < (restartedAtNs[i + 1] ?? BigInt(2) ** 63n),
            ).length,
        );
        assert.ok(
          afterRestarts.every((count) => count >= 2),
          `${what}: updates resume after each restart (${afterRestarts.join(', ')})`,
        );
        if (record === 'tick') {
          // 10 Hz after the last restart: consecutive counts, each once.
          const ticks = values
            .filter((m) => m.message.timestampNs > lastRestartNs)
            .map((m) => Number(plainValue(m.message.value)));
          ticks
            .slice(1)
            .forEach((tick, i) =>
              assert.equal(tick, ticks[i]! + 1, `${what}: tick ${ticks[i]} then ${tick}`),
            );
          figures[what] = { ticksAfterLastRestart: ticks.length };
        }
        const alarms = forwarded(world.reader, topic(), 'al00', pv(record));
        const severityOf = EXPECTED_SEVERITY[record];
        // The alarm in force at each value (the last al00 at or before its time) is the one its value implies.
        for (const value of values) {
          const at = value.message.timestampNs;
          const inForce = alarms.filter((alarm) => alarm.message.timestampNs <= at).at(-1);
          const expected = severityOf(Number(plainValue(value.message.value)));
          assert.equal(
            inForce?.message.severity,
            expected,
            `${what}: alarm at value ${plainValue(value.message.value)}`,
          );
        }
        figures[`${what} alarms`] = alarms.length;
      }
    }
    console.log(`ioc outage figures: ${JSON.stringify(figures)}`);
  });
});
