/**
 * al00 and ep01 end to end over CA and PVA: al00 only when the alarm (severity, message) changes, ep01 CONNECTED
 * on connect, DISCONNECTED when the IOC is killed and CONNECTED again when it is back, with updates resuming.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { caPut } from '../../support/ca-recorder.js';
import {
  forwarded,
  plainValue,
  waitForForwarded,
  waitForStatus,
  type StatusStream,
} from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { decodeWithReference } from '../../support/reference-decode.js';
import { Al00Severity, ConnectionInfo, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';

const world = ForwarderWorld.setUp({ extraTopics: ['pva'] });

const PROTOCOLS = world.caAndPva;

/** SIMPLE:DOUBLE's limits: LOLO 5 (MAJOR), LOW 10 (MINOR), HIGH 15 (MINOR), HIHI 20 (MAJOR). */
const PUTS = [12, 12.5, 16, 17, 21, 22, 13, 8, 3, 11];
/** The alarm after each change, as [severity, CA message, PVA message (QSRV's alarm.message)]. */
const ALARM_CHANGES: Array<[Al00Severity, string, string]> = [
  [Al00Severity.OK, 'NO_ALARM', ''],
  [Al00Severity.MINOR, 'HIGH', 'HIGH'],
  [Al00Severity.MAJOR, 'HIHI', 'HIHI'],
  [Al00Severity.OK, 'NO_ALARM', ''],
  [Al00Severity.MINOR, 'LOW', 'LOW'],
  [Al00Severity.MAJOR, 'LOLO', 'LOLO'],
  [Al00Severity.OK, 'NO_ALARM', ''],
];

describe(
  'forwarder: al00 on alarm changes, ep01 on connect, disconnect and reconnect',
  { timeout: 120_000 },
  () => {
    const pv = (record: string): string => world.ioc.pv(record);
    const counterStreams = (streams: StatusStream[]): StatusStream[] =>
      streams.filter((s) => s.channel_name === pv('counter'));

    before(async () => {
      await world.startForwarder(world.standardArguments());
      const since = world.reader.of(world.topics.status).length;
      const streams = world.f144StreamsOverCaAndPva(['SIMPLE:DOUBLE', 'ai', 'counter']);
      await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
      await waitForStatus(
        world,
        since,
        (s) => s.length === streams.length && s.every((entry) => entry.connection === 'connected'),
        'every stream connected',
      );
    });

    it('sends al00 only when severity or message changes (puts through every alarm band)', async () => {
      await caPut(
        world.ioc.clientEnv,
        PUTS.map((value) => [pv('SIMPLE:DOUBLE'), [value]]),
        0.1,
      );
      for (const { name, topic } of PROTOCOLS) {
        const values = await waitForForwarded(
          world.reader,
          topic(),
          'f144',
          pv('SIMPLE:DOUBLE'),
          (messages) => messages.length >= PUTS.length,
          { what: `every put value over ${name}` },
        );
        assert.deepEqual(
          values.map((m) => plainValue(m.message.value)),
          PUTS,
          `${name}: one f144 per put (the unprocessed record's EPICS-epoch update refused)`,
        );
        const alarms = await waitForForwarded(
          world.reader,
          topic(),
          'al00',
          pv('SIMPLE:DOUBLE'),
          (messages) => messages.length >= ALARM_CHANGES.length,
          { what: `al00 of every alarm change over ${name}` },
        );
        assert.deepEqual(
          alarms.map((m) => [m.message.severity, m.message.message]),
          ALARM_CHANGES.map(([severity, caMessage, pvaMessage]) => [
            severity,
            name === 'CA' ? caMessage : pvaMessage,
          ]),
          `${name}: al00 sequence`,
        );
        // Each al00 carries the EPICS timestamp of the update that changed the alarm.
        const changedAt = [0, 2, 4, 6, 7, 8, 9].map((i) => values[i]?.message.timestampNs);
        assert.deepEqual(
          alarms.map((m) => m.message.timestampNs),
          changedAt,
          `${name}: al00 timestamps`,
        );
      }
      const [caAlarm] = forwarded(world.reader, world.topics.data, 'al00', pv('SIMPLE:DOUBLE')).slice(2);
      const [reference] = await decodeWithReference([caAlarm!.read.payload]);
      const message = reference?.['message'] as Record<string, unknown>;
      assert.deepEqual(
        [message['source'], message['severity'], message['message'], message['timestamp_ns']],
        [pv('SIMPLE:DOUBLE'), 'MAJOR', 'HIHI', Number(caAlarm!.message.timestampNs)],
      );
    });

    it('follows a record cycling through its alarm bands with one al00 per change', async () => {
      // ai follows a sine (period 12.6 s) with HIHI 8 / LOLO -8 MAJOR: a change every few seconds.
      for (const { name, topic } of PROTOCOLS) {
        const alarms = await waitForForwarded(
          world.reader,
          topic(),
          'al00',
          pv('ai'),
          (messages) => messages.length >= 3,
          { what: `three al00 of ai over ${name}`, timeoutMs: 30_000 },
        );
        const values = forwarded(world.reader, topic(), 'f144', pv('ai'));
        assert.ok(
          values.length > alarms.length * 5,
          `${name}: ${values.length} values, ${alarms.length} alarms`,
        );
        alarms.slice(1).forEach((alarm, i) => {
          const previous = alarms[i]!.message;
          assert.notDeepEqual(
            [alarm.message.severity, alarm.message.message],
            [previous.severity, previous.message],
            `${name}: consecutive al00 differ`,
          );
        });
        for (const alarm of alarms) {
          assert.ok(
            [Al00Severity.OK, Al00Severity.MAJOR].includes(alarm.message.severity),
            `${name}: ai has only MAJOR bands`,
          );
        }
      }
    });

    it('sends ep01 CONNECTED on connect, DISCONNECTED when the IOC dies, CONNECTED when it is back', async () => {
      for (const { name, topic } of PROTOCOLS) {
        const states = forwarded(world.reader, topic(), 'ep01', pv('counter')).map((m) => m.message.status);
        assert.deepEqual(states, [ConnectionInfo.CONNECTED], `${name}: CONNECTED once`);
      }
      const statusSince = world.reader.of(world.topics.status).length;
      const killedAtNs = BigInt(Date.now()) * 1_000_000n;
      await world.ioc.kill();
      for (const { name, topic } of PROTOCOLS) {
        await waitForForwarded(
          world.reader,
          topic(),
          'ep01',
          pv('counter'),
          (messages) => messages.some((m) => m.message.status === ConnectionInfo.DISCONNECTED),
          { what: `DISCONNECTED over ${name}`, timeoutMs: 30_000 },
        );
      }
      await waitForStatus(
        world,
        statusSince,
        (s) => counterStreams(s).every((entry) => entry.connection === 'disconnected'),
        'status listing the counter streams as disconnected',
      );
      const dataSince = PROTOCOLS.map(({ topic }) => world.reader.of(topic()).length);
      await world.ioc.start();
      const restartedAtNs = BigInt(Date.now()) * 1_000_000n;
      for (const [i, { name, topic }] of PROTOCOLS.entries()) {
        const connection = await waitForForwarded(
          world.reader,
          topic(),
          'ep01',
          pv('counter'),
          (messages) => messages.length >= 3,
          { what: `CONNECTED again over ${name}`, timeoutMs: 30_000 },
        );
        assert.deepEqual(
          connection.map((m) => m.message.status),
          [ConnectionInfo.CONNECTED, ConnectionInfo.DISCONNECTED, ConnectionInfo.CONNECTED],
          `${name}: connection sequence`,
        );
        const [, disconnected, reconnected] = connection.map((m) => m.message.timestampNs);
        assert.ok(
          disconnected! >= killedAtNs && reconnected! > disconnected!,
          `${name}: ep01 times in order`,
        );
        // Updates resume, stamped by the restarted IOC.
        const resumed = await waitForForwarded(
          world.reader,
          topic(),
          'f144',
          pv('counter'),
          (messages) => messages.length >= 2,
          { since: dataSince[i], what: `counter updates after the restart over ${name}`, timeoutMs: 20_000 },
        );
        assert.ok(
          resumed.every((m) => m.message.timestampNs >= restartedAtNs - 5_000_000_000n),
          `${name}: resumed updates carry the restarted IOC's time`,
        );
      }
      const [reconnected] = forwarded(world.reader, world.extraTopic('pva'), 'ep01', pv('counter')).slice(2);
      const [reference] = await decodeWithReference([reconnected!.read.payload]);
      const message = reference?.['message'] as Record<string, unknown>;
      assert.deepEqual(
        [message['source_name'], message['status'], message['timestamp']],
        [pv('counter'), 'CONNECTED', Number(reconnected!.message.timestampNs)],
      );
    });

    it('connects streams added while their IOC is down once it is back', async () => {
      await world.ioc.kill();
      const since = world.reader.of(world.topics.status).length;
      const streams = PROTOCOLS.map(({ protocol, topic }) => ({
        channel: pv('longin'),
        schema: 'f144',
        topic: topic(),
        protocol,
        periodic: 0,
      }));
      await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
      await waitForStatus(
        world,
        since,
        (s) => s.filter((entry) => entry.channel_name === pv('longin')).length === 2,
        'the longin streams listed',
      );
      await new Promise((resolveWait) => setTimeout(resolveWait, 3000));
      for (const { topic } of PROTOCOLS) {
        assert.deepEqual(forwarded(world.reader, topic(), 'ep01', pv('longin')), [], 'nothing while down');
      }
      await world.ioc.start();
      for (const { name, topic } of PROTOCOLS) {
        await waitForForwarded(
          world.reader,
          topic(),
          'f144',
          pv('longin'),
          (messages) => messages.length >= 2,
          { what: `longin values over ${name} once the IOC is up`, timeoutMs: 30_000 },
        );
        assert.deepEqual(
          forwarded(world.reader, topic(), 'ep01', pv('longin')).map((m) => m.message.status),
          [ConnectionInfo.CONNECTED],
          `${name}: CONNECTED, never a DISCONNECTED before the first connection`,
        );
      }
    });
  },
);
