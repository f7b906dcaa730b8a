import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamStatus } from '../../../src/forwarding/forwarder.js';
import { newStreamCounters } from '../../../src/forwarding/pipeline.js';
import type { MessageSink } from '../../../src/forwarding/sink.js';
import { deserialiseX5f2 } from '../../../src/schemas/index.js';
import { StatusReporter, statusJson } from '../../../src/status/reporter.js';

const status = (pvName: string, protocol: 'ca' | 'pva' | 'fake'): StreamStatus => ({
  spec: { pvName, protocol, topic: 'data', schema: 'f144', periodic: protocol === 'pva' },
  counters: { ...newStreamCounters(), connection: 'connected' },
});

describe('status reporter', () => {
  it('lists streams with the reference keys, laid out as Python json.dumps does', () => {
    assert.equal(statusJson([]), '{"streams": []}');
    const json = statusJson([status('A:"q"', 'ca'), status('B', 'pva')]);
    assert.equal(
      json,
      '{"streams": [{"channel_name": "A:\\"q\\"", "protocol": "CA", "output_topic": "data", "schema": "f144", ' +
        '"periodic": false, "connection": "connected"}, {"channel_name": "B", "protocol": "PVA", ' +
        '"output_topic": "data", "schema": "f144", "periodic": true, "connection": "connected"}]}',
    );
    assert.deepEqual(
      (JSON.parse(json) as { streams: Array<{ channel_name: string }> }).streams.map((s) => s.channel_name),
      ['A:"q"', 'B'],
    );
  });

  it('adds the group of a forwarding group member', () => {
    const group = {
      id: 'bl',
      partitions: [1, 4],
      partitionCount: 8,
      desiredStreams: 3,
      storageTopic: 'store',
      handovers: [{ partition: 4, from: 'fwd-a/1f', to: '', phase: 'announced' }],
    };
    assert.equal(
      statusJson([], group),
      '{"streams": [], "group": {"id": "bl", "partitions": [1, 4], "partition_count": 8, "desired_streams": 3, ' +
        '"storage_topic": "store", "handovers": [{"partition": 4, "from": "fwd-a/1f", "to": "", "phase": "announced"}]}}',
    );
    const { storageTopic: _none, ...withoutStorage } = group;
    assert.deepEqual((JSON.parse(statusJson([], withoutStorage)) as { group: object }).group, {
      id: 'bl',
      partitions: [1, 4],
      partition_count: 8,
      desired_streams: 3,
      handovers: [{ partition: 4, from: 'fwd-a/1f', to: '', phase: 'announced' }],
    });
  });

  it('sends x5f2 with the service identity, unkeyed', () => {
    const sent: Array<{ topic: string; key: Buffer | null; payload: Uint8Array }> = [];
    const sink: MessageSink = { send: (topic, key, payload) => sent.push({ topic, key, payload }) };
    const reporter = new StatusReporter(
      sink,
      'status',
      {
        softwareName: 'Forwarder',
        softwareVersion: '1.2.3',
        serviceId: 'fwd-1',
        hostName: 'host',
        processId: 42,
      },
      4000,
      () => [status('PV', 'fake')],
    );
    reporter.report();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.key, null);
    const message = deserialiseX5f2(sent[0]!.payload);
    assert.equal(message.serviceId, 'fwd-1');
    assert.equal(message.updateIntervalMs, 4000);
    assert.equal(message.processId, 42);
    assert.match(message.statusJson, /"channel_name": "PV", "protocol": "FAKE"/);

    reporter.start();
    reporter.reportStopped();
    assert.equal(sent.length, 2);
    const last = deserialiseX5f2(sent[1]!.payload);
    assert.equal(last.serviceId, 'fwd-1');
    assert.deepEqual(JSON.parse(last.statusJson), { streams: [], state: 'stopped' });
  });
});
