import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  age,
  groupStorageTopics,
  groupSummaries,
  StatusCollector,
  statusDocument,
  statusText,
} from '../../../src/ctl/status-view.js';
import type { X5f2Message } from '../../../src/schemas/index.js';

const status = (overrides: Partial<X5f2Message> = {}): X5f2Message => ({
  softwareName: 'Forwarder',
  softwareVersion: '0.1.0',
  serviceId: 'fwd-1',
  hostName: 'host-a',
  processId: 100,
  updateIntervalMs: 4000,
  statusJson:
    '{"streams": [{"channel_name": "SIM:A", "protocol": "CA", "output_topic": "motion", "schema": "f144", ' +
    '"periodic": true, "connection": "connected"}]}',
  ...overrides,
});

const now = Date.parse('2026-01-01T12:00:00Z');

describe('status view', () => {
  it('keeps the newest status message of each instance, whatever the order they are read in', () => {
    const collector = new StatusCollector();
    collector.add(status({ processId: 2 }), now - 1000);
    collector.add(status({ processId: 1 }), now - 5000);
    collector.add(status({ serviceId: 'fwd-0', hostName: 'host-b' }), now - 60_000);
    collector.add(status({ hostName: 'host-b' }), now - 2000);
    const instances = collector.instances(now);
    assert.deepEqual(
      instances.map(({ serviceId, hostName, processId, state }) => [serviceId, hostName, processId, state]),
      [
        ['fwd-0', 'host-b', 100, 'silent'],
        ['fwd-1', 'host-a', 2, 'running'],
        ['fwd-1', 'host-b', 100, 'running'],
      ],
    );
  });

  it('counts an instance silent after three of its own status intervals', () => {
    const collector = new StatusCollector();
    collector.add(status({ updateIntervalMs: 1000 }), now - 3500);
    assert.equal(collector.instances(now)[0]?.state, 'silent');
    assert.equal(collector.instances(now - 1000)[0]?.state, 'running');
    const unknownInterval = new StatusCollector();
    unknownInterval.add(status({ updateIntervalMs: 0 }), now - 11_000);
    assert.equal(unknownInterval.instances(now)[0]?.state, 'running');
  });

  it('shows an instance whose last message says it stopped as stopped, never silent, without streams', () => {
    const collector = new StatusCollector();
    collector.add(status({ updateIntervalMs: 1000 }), now - 10_000);
    collector.add(
      status({ updateIntervalMs: 1000, statusJson: '{"streams": [], "state": "stopped"}' }),
      now - 500,
    );
    const [instance] = collector.instances(now + 60_000);
    assert.equal(instance?.state, 'stopped');
    assert.deepEqual(instance?.streams, []);
    assert.equal(
      statusText('status', collector.instances(now), now, 60),
      'fwd-1 on host-a (pid 100), Forwarder 0.1.0: stopped, last seen 2026-01-01T11:59:59.500Z (1 s ago), 0 streams\n',
    );
    assert.deepEqual(groupSummaries(collector.instances(now)), []);
  });

  it('prints each instance and its streams as a table', () => {
    const collector = new StatusCollector();
    collector.add(status(), now - 2000);
    collector.add(
      status({
        serviceId: 'reference',
        softwareVersion: '2.1.0',
        statusJson:
          '{"streams": [{"channel_name": "OLD:PV", "protocol": "PVA", "output_topic": "t", "schema": "f142"}]}',
      }),
      now - 1000,
    );
    assert.equal(
      statusText('status', collector.instances(now), now, 60),
      [
        'fwd-1 on host-a (pid 100), Forwarder 0.1.0: running, last seen 2026-01-01T11:59:58.000Z (2 s ago), 1 stream',
        '  PV     PROTOCOL  TOPIC   SCHEMA  PERIODIC  CONNECTION',
        '  SIM:A  CA        motion  f144    yes       connected',
        '',
        'reference on host-a (pid 100), Forwarder 2.1.0: running, last seen 2026-01-01T11:59:59.000Z (1 s ago), 1 stream',
        '  PV      PROTOCOL  TOPIC  SCHEMA  PERIODIC  CONNECTION',
        '  OLD:PV  PVA       t      f142    -         -',
        '',
      ].join('\n'),
    );
  });

  it('says when nobody reported, and when a status JSON is unreadable', () => {
    assert.equal(statusText('status', [], now, 60), 'No forwarder status on status in the last 60 s.\n');
    const collector = new StatusCollector();
    collector.add(status({ statusJson: '{"streams": ' }), now);
    collector.add(status({ serviceId: 'x', statusJson: '{"stream": []}' }), now);
    const [broken, wrongShape] = collector.instances(now);
    assert.equal(broken?.streams, null);
    assert.match(broken?.statusJsonError ?? '', /not valid JSON/);
    assert.equal(wrongShape?.statusJsonError, 'status JSON has no "streams" list');
    assert.match(
      statusText('status', collector.instances(now), now, 60),
      /0 s ago\), status JSON is not valid JSON/,
    );
  });

  it('gives scripts every field as JSON', () => {
    const collector = new StatusCollector();
    collector.add(status(), now - 1234);
    assert.deepEqual(JSON.parse(JSON.stringify(statusDocument('status', collector.instances(now), now))), {
      topic: 'status',
      time: '2026-01-01T12:00:00.000Z',
      instances: [
        {
          serviceId: 'fwd-1',
          hostName: 'host-a',
          processId: 100,
          softwareName: 'Forwarder',
          softwareVersion: '0.1.0',
          updateIntervalMs: 4000,
          state: 'running',
          streams: [
            {
              channel_name: 'SIM:A',
              protocol: 'CA',
              output_topic: 'motion',
              schema: 'f144',
              periodic: true,
              connection: 'connected',
            },
          ],
          lastSeen: '2026-01-01T11:59:58.766Z',
          secondsSinceLastSeen: 1.2,
        },
      ],
    });
  });

  it('writes ages briefly', () => {
    assert.deepEqual([0, 119_000, 120_000, 7_100_000, 7_300_000, 200_000_000].map(age), [
      '0 s',
      '119 s',
      '2 min',
      '118 min',
      '2 h',
      '2 d',
    ]);
  });
});

describe('status view of a forwarding group', () => {
  const entry = (pv: string): string =>
    `{"channel_name": "${pv}", "protocol": "CA", "output_topic": "data", "schema": "f144", "periodic": false, ` +
    '"connection": "connected"}';
  const member = (serviceId: string, pvs: readonly string[], partitions: readonly number[]): X5f2Message =>
    status({
      serviceId,
      statusJson:
        `{"streams": [${pvs.map(entry).join(', ')}], "group": {"id": "bl", "partitions": [${partitions.join(', ')}], ` +
        '"partition_count": 4, "desired_streams": 3, "storage_topic": "bl_storage"}}',
    });

  it('sums up the running members, the partitions nobody holds and the streams nobody forwards', () => {
    const collector = new StatusCollector();
    collector.add(member('m1', ['A'], [0, 1]), now - 1000);
    collector.add(member('m2', ['B'], [2]), now - 1000);
    collector.add(member('gone', ['C'], [3]), now - 60_000);
    const instances = collector.instances(now);
    assert.deepEqual(groupStorageTopics(instances), new Map([['bl', 'bl_storage']]));
    const desired = new Map([
      ['bl', ['A', 'B', 'C'].map((pv) => ({ pv, protocol: 'CA', topic: 'data', schema: 'f144' }))],
    ]);
    const [group] = groupSummaries(instances, desired);
    assert.deepEqual(group, {
      id: 'bl',
      members: ['m1', 'm2'],
      partitionCount: 4,
      unassignedPartitions: [3],
      desiredStreams: 3,
      forwardedStreams: 2,
      notForwarded: [{ pv: 'C', protocol: 'CA', topic: 'data', schema: 'f144' }],
    });
    const text = statusText('status', instances, now, 60, groupSummaries(instances, desired));
    assert.match(
      text,
      /\nGroup bl: 2 running members \(m1, m2\), 4 partitions, partitions assigned to nobody: 3; 2 of 3 streams forwarded\n {2}Not forwarded by anyone \(1\):\n {4}PV +PROTOCOL +TOPIC +SCHEMA\n {4}C +CA +data +f144\n$/,
    );
    assert.match(
      statusText('status', instances, now, 60, groupSummaries(instances)),
      /2 of 3 streams forwarded\n {2}1 streams are not forwarded by anyone\n$/,
    );
    const document = statusDocument('status', instances, now, [group!]) as {
      groups: unknown[];
      instances: { group?: unknown }[];
    };
    assert.equal(document.groups.length, 1);
    assert.deepEqual(document.instances[0]?.group, {
      id: 'bl',
      partitions: [3],
      partitionCount: 4,
      desiredStreams: 3,
      storageTopic: 'bl_storage',
    });
  });

  it('shows a group mid-hand-over, one line per partition from the new owner when it reports one', () => {
    const collector = new StatusCollector();
    const withHandovers = (
      serviceId: string,
      partitions: readonly number[],
      handovers: string,
    ): X5f2Message =>
      status({
        serviceId,
        statusJson:
          `{"streams": [], "group": {"id": "bl", "partitions": [${partitions.join(', ')}], "partition_count": 4, ` +
          `"desired_streams": 0, "handovers": [${handovers}]}}`,
      });
    collector.add(
      withHandovers(
        'm1',
        [0, 1],
        '{"partition": 2, "from": "m1/a", "to": "", "phase": "announced"}, ' +
          '{"partition": 3, "from": "m1/a", "to": "m2/b", "phase": "stopping"}',
      ),
      now - 1000,
    );
    collector.add(
      withHandovers('m2', [2, 3], '{"partition": 2, "from": "m1/a", "to": "m2/b", "phase": "subscribing"}'),
      now - 1000,
    );
    const [group] = groupSummaries(collector.instances(now));
    assert.deepEqual(group?.handovers, [
      { partition: 2, from: 'm1/a', to: 'm2/b', phase: 'subscribing' },
      { partition: 3, from: 'm1/a', to: 'm2/b', phase: 'stopping' },
    ]);
    assert.match(
      statusText('status', collector.instances(now), now, 60, group ? [group] : []),
      /\n {2}Handing over partition 2 from m1\/a to m2\/b \(subscribing\), 3 from m1\/a to m2\/b \(stopping\)\n$/,
    );
  });
});
