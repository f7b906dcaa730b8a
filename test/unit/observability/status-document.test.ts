/** /status.json: streams with their problem first, each with its state, server, value, alarm and reason. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamStatus } from '../../../src/forwarding/forwarder.js';
import { newStreamCounters, type StreamCounters } from '../../../src/forwarding/pipeline.js';
import { DELIVERY_FAILURE_WINDOW_MS, streamProblem } from '../../../src/forwarding/stream-problem.js';
import type { StreamSpec } from '../../../src/model/stream.js';
import type { PvUpdate } from '../../../src/model/update.js';
import type { ProducerView } from '../../../src/observability/kafka-metrics.js';
import { statusDocument, type StatusSources } from '../../../src/observability/status-document.js';

const nowMs = 1_700_000_100_000;

function counters(overrides: Partial<StreamCounters> = {}): StreamCounters {
  return { ...newStreamCounters(nowMs - 60_000), ...overrides };
}

function spec(pvName: string, protocol: StreamSpec['protocol'] = 'ca'): StreamSpec {
  return { pvName, protocol, topic: 'data', schema: 'f144', periodic: false };
}

function producer(queued: number, delivered: number, inFlight: number): ProducerView {
  return {
    counters: { queued, delivered, deliveryErrors: 0, queueFull: 0, produceErrors: 0 },
    inFlight,
  };
}

const update = (value: number, severity = 0, message = 'NO_ALARM'): PvUpdate => ({
  value: { kind: 'scalar', type: 'float64', value },
  timestampNs: BigInt(nowMs) * 1_000_000n,
  alarm: { severity, status: 0, message },
  display: { units: 'mm', precision: 2 },
});

const health = {
  healthy: true,
  status: 'ok',
  checks: { configConsumer: 'up', outputProducer: 'up' },
} as const;

function sourcesOf(streams: StreamStatus[]): StatusSources {
  return {
    service: {
      version: '1.2.3',
      serviceId: 'svc<1>',
      hostName: 'h',
      processId: 42,
      startedAtMs: nowMs - 3_600_000,
    },
    streams: () => streams,
    producers: () => new Map([['output', producer(9, 7, 2)]]),
    commandCounts: () => undefined,
  };
}

const connected = (overrides: Partial<StreamCounters> = {}): StreamCounters =>
  counters({ connection: 'connected', server: '127.0.0.1:5064', lastUpdateMs: nowMs - 2000, ...overrides });

describe('status document', () => {
  const sources = sourcesOf([
    {
      spec: spec('B:ok'),
      counters: connected({ updates: 3, messages: 6, lastUpdate: update(1.5, 2, 'HIHI') }),
    },
    { spec: spec('A:<script>alert(1)</script>'), counters: counters() },
    {
      spec: spec('C:lost', 'pva'),
      counters: counters({
        connection: 'disconnected',
        connectionSinceMs: nowMs - 30_000,
        server: '127.0.0.1:5075',
        connectionDetail: 'server 127.0.0.1:5075: connection closed by the server',
        lastUpdateMs: nowMs - 600_000,
      }),
    },
    { spec: spec('D:string'), counters: connected({ rejecting: 'a string cannot go out as f144' }) },
    {
      spec: spec('E:too-big'),
      counters: connected(),
      deliveryFailures: { count: 3, reason: 'Broker: Message size too large', lastMs: nowMs - 1000 },
    },
  ]);

  it('lists disconnected, then never connected, then rejecting or failing delivery, then the rest', () => {
    const document = statusDocument(sources, health, nowMs);
    assert.deepEqual(
      document.streams.map((stream) => [stream.pv, stream.state, stream.problem, stream.lastUpdate]),
      [
        ['C:lost', 'disconnected', 'disconnected', new Date(nowMs - 600_000).toISOString()],
        ['A:<script>alert(1)</script>', 'never_connected', 'never_connected', null],
        ['D:string', 'connected', 'rejecting', new Date(nowMs - 2000).toISOString()],
        ['E:too-big', 'connected', 'delivery_failing', new Date(nowMs - 2000).toISOString()],
        ['B:ok', 'connected', null, new Date(nowMs - 2000).toISOString()],
      ],
    );
    assert.equal(document.service.uptimeSeconds, 3600);
    assert.deepEqual(document.streamStates, { disconnected: 1, never_connected: 1, connected: 3 });
    assert.deepEqual(document.kafka['output'], {
      queued: 9,
      delivered: 7,
      deliveryErrors: 0,
      queueFull: 0,
      produceErrors: 0,
      inFlight: 2,
    });
    assert.deepEqual(document.commands, { accepted: 0, rejected: 0, skippedStreams: 0 });
  });

  it('says degraded while healthy with streams not forwarding, and counts them by problem', () => {
    const document = statusDocument(sources, health, nowMs);
    assert.equal(document.overall, 'degraded');
    assert.deepEqual(document.problems, {
      disconnected: 1,
      never_connected: 1,
      rejecting: 1,
      delivery_failing: 1,
    });
    const fine = statusDocument(sourcesOf([{ spec: spec('B:ok'), counters: connected() }]), health, nowMs);
    assert.equal(fine.overall, 'ok');
    const starting = { ...health, healthy: false, status: 'starting' } as const;
    assert.equal(statusDocument(sources, starting, nowMs).overall, 'starting', 'health comes first');
  });

  it('gives each stream its state since, server, value, alarm and why it is not forwarding', () => {
    const byPv = new Map(statusDocument(sources, health, nowMs).streams.map((stream) => [stream.pv, stream]));
    const ok = byPv.get('B:ok');
    assert.deepEqual(
      [ok?.since, ok?.server, ok?.value, ok?.alarm, ok?.reason],
      [
        new Date(nowMs - 60_000).toISOString(),
        '127.0.0.1:5064',
        '1.50 mm',
        { severity: 'MAJOR', message: 'HIHI' },
        null,
      ],
    );
    const lost = byPv.get('C:lost');
    assert.deepEqual(
      [lost?.since, lost?.server, lost?.reason, lost?.value],
      [
        new Date(nowMs - 30_000).toISOString(),
        '127.0.0.1:5075',
        'server 127.0.0.1:5075: connection closed by the server',
        null,
      ],
    );
    assert.equal(byPv.get('D:string')?.reason, 'a string cannot go out as f144');
    const tooBig = byPv.get('E:too-big');
    assert.equal(tooBig?.reason, 'Broker: Message size too large');
    assert.deepEqual(tooBig?.deliveryFailures, {
      count: 3,
      lastReason: 'Broker: Message size too large',
      last: new Date(nowMs - 1000).toISOString(),
    });
  });

  it('shows the group of a forwarding group member', () => {
    assert.equal(statusDocument(sources, health, nowMs).group, undefined);
    const group = { id: 'bl<x>', member: true, partitions: [1, 5], partitionCount: 8, desiredStreams: 30 };
    assert.deepEqual(statusDocument({ ...sources, group: () => group }, health, nowMs).group, group);
  });

  it('shows the disk spool beside the streams, the age of its oldest waiting message in seconds', () => {
    assert.equal(statusDocument(sources, health, nowMs).spool, undefined);
    const spool = {
      bytes: 4096,
      maxBytes: 1_000_000,
      waiting: 3,
      oldestWaitingMs: nowMs - 42_400,
      appended: 10,
      dropped: 1,
      replayed: 2,
      skippedAtStart: 0,
      recovery: { tornBytes: 5, corruptRecords: 1, corruptBytes: 9 },
      writeError: 'ENOSPC: no space left on device',
    };
    assert.deepEqual(statusDocument({ ...sources, spool: () => spool }, health, nowMs).spool, {
      bytes: 4096,
      maxBytes: 1_000_000,
      waiting: 3,
      oldestWaitingSeconds: 42,
      appended: 10,
      replayed: 2,
      dropped: 1,
      tornBytes: 5,
      corruptRecords: 1,
      writeError: 'ENOSPC: no space left on device',
    });
  });
});

describe('stream problems', () => {
  it('counts a delivery failure until an update came after it and a minute passed', () => {
    const failedAt = nowMs - 10_000;
    const failing = (lastUpdateMs: number, now: number) =>
      streamProblem(
        {
          spec: spec('X'),
          counters: connected({ lastUpdateMs }),
          deliveryFailures: { count: 1, reason: 'Local: Message timed out', lastMs: failedAt },
        },
        now,
      )?.problem;
    assert.equal(failing(failedAt - 1, nowMs), 'delivery_failing', 'the latest update failed');
    assert.equal(failing(failedAt + 1, nowMs), 'delivery_failing', 'within the minute');
    assert.equal(failing(failedAt + 1, failedAt + DELIVERY_FAILURE_WINDOW_MS + 1), undefined);
    assert.equal(
      failing(failedAt - 1, failedAt + DELIVERY_FAILURE_WINDOW_MS + 1),
      'delivery_failing',
      'no update since the failure: the last value was not delivered',
    );
  });

  it('names a final EPICS state, and says never connected without a reason the client did not give', () => {
    assert.deepEqual(
      streamProblem({ spec: spec('X'), counters: counters({ connection: 'remote_error' }) }, nowMs),
      {
        problem: 'disconnected',
        reason: 'remote error',
      },
    );
    assert.deepEqual(streamProblem({ spec: spec('X'), counters: counters() }, nowMs), {
      problem: 'never_connected',
      reason: undefined,
    });
  });
});
