/**
 * The forwarder's metric set read from plain counter fields (streams, commands, producers, EPICS clients), the
 * totals that survive removed streams, the pipeline's latency hook, health, the overall state and Carbon lines.
 * (/status.json and the page: status-document.test.ts, status-page.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamSpec } from '../../../src/model/stream.js';
import type { CommandCounts, StreamStatus } from '../../../src/forwarding/forwarder.js';
import { newStreamCounters, StreamPipeline, type StreamCounters } from '../../../src/forwarding/pipeline.js';
import type { MessageSink } from '../../../src/forwarding/sink.js';
import type { ProducerCounters } from '../../../src/kafka/producer.js';
import { carbonLines, carbonPrefix } from '../../../src/observability/carbon.js';
import type { EpicsClientView } from '../../../src/observability/epics-metrics.js';
import { ForwarderMetrics, type MetricSources } from '../../../src/observability/forwarder-metrics.js';
import type { GroupMetricsView } from '../../../src/observability/group-metrics.js';
import type { ProducerView } from '../../../src/observability/kafka-metrics.js';
import { StreamTotals } from '../../../src/observability/stream-metrics.js';
import { HealthCheck, type HealthInputs, type HealthReport } from '../../../src/observability/health.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { Histogram, renderExposition } from '../../../src/observability/metrics.js';

function counters(overrides: Partial<StreamCounters> = {}): StreamCounters {
  return { ...newStreamCounters(), ...overrides };
}

function spec(pvName: string, protocol: StreamSpec['protocol'] = 'ca'): StreamSpec {
  return { pvName, protocol, topic: 'data', schema: 'f144', periodic: false };
}

function producer(values: Partial<ProducerCounters> = {}, inFlight = 0): ProducerView {
  return {
    counters: { queued: 0, delivered: 0, deliveryErrors: 0, queueFull: 0, produceErrors: 0, ...values },
    inFlight,
  };
}

class World implements MetricSources {
  statuses: StreamStatus[] = [];
  commands: CommandCounts = { accepted: 0, rejected: 0, skippedStreams: 0 };
  producerViews = new Map<string, ProducerView>();
  clients = new Map<'ca' | 'pva' | 'fake', EpicsClientView>();
  streams = (): StreamStatus[] => this.statuses;
  commandCounts = (): CommandCounts => this.commands;
  producers = (): Map<string, ProducerView> => this.producerViews;
  epicsClients = (): Map<'ca' | 'pva' | 'fake', EpicsClientView> => this.clients;
  report: HealthReport | undefined = {
    healthy: true,
    status: 'ok',
    checks: { configConsumer: 'up', outputProducer: 'up' },
  };
  health = (): HealthReport | undefined => this.report;
  groupView: GroupMetricsView | undefined;
  group = (): GroupMetricsView | undefined => this.groupView;
}

function metricsOf(world: World, perPv = false): ForwarderMetrics {
  return new ForwarderMetrics(world, {
    perPv,
    version: '1.2.3',
    serviceId: 'unit',
    hostName: 'host.example.org',
    startedAtMs: 1_700_000_000_000,
  });
}

/** name{labels} → value of every sample line. */
function values(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    map.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return map;
}

describe('forwarder metrics', () => {
  it('reads streams by state, totals, commands, producers and EPICS clients when scraped', (t) => {
    const world = new World();
    const metrics = metricsOf(world);
    t.after(() => metrics.close());
    world.statuses = [
      { spec: spec('A'), counters: counters({ updates: 5, messages: 9, connection: 'connected' }) },
      {
        spec: spec('B', 'pva'),
        counters: counters({ updates: 2, messages: 1, rejected: { timestamp: 1, unsupported: 2, error: 3 } }),
      },
      { spec: spec('C'), counters: counters({ connection: 'disconnected' }) },
    ];
    world.commands = { accepted: 4, rejected: 1, skippedStreams: 2 };
    world.producerViews.set('output', producer({ queued: 10, delivered: 8, queueFull: 1 }, 2));
    world.producerViews.set('status', producer({ queued: 3, delivered: 3 }));
    const caCounters = {
      searchDatagramsSent: 7,
      bytesReceived: 1024,
      protocolErrors: 3,
      badDatagrams: 2,
      label: 'ignored',
    };
    world.clients.set('ca', { counters: caCounters });
    const scraped = values(renderExposition(metrics.collect()));
    const expected: Record<string, number> = {
      'forwarder_info{version="1.2.3",service_id="unit",host="host.example.org"}': 1,
      forwarder_healthy: 1,
      // Healthy, but one stream never connected and one lost.
      'forwarder_state{state="degraded"}': 1,
      'forwarder_state{state="ok"}': 0,
      'forwarder_streams_with_problem{problem="disconnected"}': 1,
      'forwarder_streams_with_problem{problem="never_connected"}': 1,
      'forwarder_streams_with_problem{problem="rejecting"}': 0,
      'forwarder_streams_with_problem{problem="delivery_failing"}': 0,
      'forwarder_streams{state="connected"}': 1,
      'forwarder_streams{state="disconnected"}': 1,
      'forwarder_streams{state="never_connected"}': 1,
      'forwarder_streams{state="remote_error"}': 0,
      forwarder_updates_received_total: 7,
      forwarder_messages_forwarded_total: 10,
      'forwarder_messages_rejected_total{reason="timestamp"}': 1,
      'forwarder_messages_rejected_total{reason="unsupported"}': 2,
      'forwarder_messages_rejected_total{reason="error"}': 3,
      'forwarder_kafka_messages_queued_total{producer="output"}': 10,
      'forwarder_kafka_messages_delivered_total{producer="status"}': 3,
      'forwarder_kafka_queue_full_total{producer="output"}': 1,
      'forwarder_kafka_in_flight_messages{producer="output"}': 2,
      'forwarder_config_commands_total{outcome="accepted"}': 4,
      'forwarder_config_commands_total{outcome="rejected"}': 1,
      forwarder_config_streams_skipped_total: 2,
      forwarder_ca_search_datagrams_sent_total: 7,
      forwarder_ca_bytes_received_total: 1024,
      forwarder_ca_protocol_errors_total: 3,
      'forwarder_epics_protocol_errors_total{protocol="ca",kind="circuit"}': 3,
      'forwarder_epics_protocol_errors_total{protocol="ca",kind="datagram"}': 2,
      'forwarder_epics_protocol_errors_total{protocol="pva",kind="circuit"}': 0,
      'forwarder_epics_protocol_errors_total{protocol="pva",kind="datagram"}': 0,
      process_start_time_seconds: 1_700_000_000,
    };
    for (const [series, value] of Object.entries(expected)) assert.equal(scraped.get(series), value, series);
    assert.ok(!scraped.has('forwarder_ca_label_total'));
    assert.ok((scraped.get('process_resident_memory_bytes') ?? 0) > 0);
    assert.ok(scraped.has('nodejs_eventloop_lag_seconds{quantile="0.99"}'));
    assert.ok(scraped.has('forwarder_epics_to_produce_seconds_count'));
  });

  it('has forwarding group series only for a group member', (t) => {
    const world = new World();
    const metrics = metricsOf(world);
    t.after(() => metrics.close());
    assert.doesNotMatch(renderExposition(metrics.collect()), /forwarder_group_/);
    world.groupView = {
      groupId: 'beamline',
      inGroup: true,
      partitionCount: 32,
      partitionsOwned: 11,
      desiredStreams: 300,
      ownedStreams: 104,
      counters: { partitionsAssigned: 16, partitionsRevoked: 5, partitionsLost: 0, rebalances: 3 },
      handovers: {
        completed: { giving: 4, taking: 2 },
        fallenBack: {
          'no-ready': 1,
          'not-announced': 0,
          'flush-timeout': 0,
          'no-released': 3,
          interrupted: 0,
        },
      },
      handoversInProgress: 2,
    };
    const scraped = values(renderExposition(metrics.collect()));
    const expected: Record<string, number> = {
      'forwarder_group_member{group="beamline"}': 1,
      'forwarder_group_partitions{group="beamline"}': 32,
      'forwarder_group_partitions_owned{group="beamline"}': 11,
      'forwarder_group_streams_desired{group="beamline"}': 300,
      'forwarder_group_streams_owned{group="beamline"}': 104,
      'forwarder_group_rebalances_total{group="beamline"}': 3,
      'forwarder_group_partition_changes_total{group="beamline",change="assigned"}': 16,
      'forwarder_group_partition_changes_total{group="beamline",change="revoked"}': 5,
      'forwarder_group_partition_changes_total{group="beamline",change="lost"}': 0,
      'forwarder_group_handovers_in_progress{group="beamline"}': 2,
      'forwarder_group_handovers_total{group="beamline",role="giving",outcome="completed"}': 4,
      'forwarder_group_handovers_total{group="beamline",role="taking",outcome="completed"}': 2,
      'forwarder_group_handovers_total{group="beamline",role="giving",outcome="fallen_back",reason="no-ready"}': 1,
      'forwarder_group_handovers_total{group="beamline",role="taking",outcome="fallen_back",reason="no-released"}': 3,
      'forwarder_group_handovers_total{group="beamline",role="taking",outcome="fallen_back",reason="interrupted"}': 0,
    };
    for (const [series, value] of Object.entries(expected)) assert.equal(scraped.get(series), value, series);
  });

  it('has no per-PV series unless asked, and then one per stream', (t) => {
    const world = new World();
    world.statuses = [
      {
        spec: spec('SIM:"odd"'),
        counters: counters({ updates: 3, lastUpdateMs: 1_700_000_001_500, connection: 'connected' }),
      },
    ];
    const plain = metricsOf(world);
    const perPv = metricsOf(world, true);
    t.after(() => {
      plain.close();
      perPv.close();
    });
    assert.doesNotMatch(renderExposition(plain.collect()), /pv=/);
    const scraped = values(renderExposition(perPv.collect()));
    const labels = 'pv="SIM:\\"odd\\"",protocol="ca",topic="data",schema="f144"';
    assert.equal(scraped.get(`forwarder_stream_updates_total{${labels}}`), 3);
    assert.equal(scraped.get(`forwarder_stream_last_update_timestamp_seconds{${labels}}`), 1_700_000_001.5);
    assert.equal(scraped.get(`forwarder_stream_connected{${labels}}`), 1);
  });
});

describe('stream totals', () => {
  it('never go down when a stream is removed, and count its last updates', () => {
    const totals = new StreamTotals();
    const a = counters({ updates: 5, messages: 5 });
    const b = counters({ updates: 1, messages: 2 });
    totals.update([a, b]);
    assert.equal(totals.totals.updates, 6);
    a.updates = 8;
    b.updates = 4;
    b.rejected.timestamp = 2;
    // b removed after counting 3 more updates: they still count, once.
    totals.update([a]);
    assert.deepEqual(totals.totals, {
      updates: 12,
      messages: 7,
      resends: 0,
      timestamp: 2,
      unsupported: 0,
      error: 0,
    });
    totals.update([a]);
    assert.equal(totals.totals.updates, 12);
    // The same PV added again starts a new pipeline with its own counters.
    const again = counters({ updates: 1, messages: 1 });
    totals.update([a, again]);
    assert.equal(totals.totals.updates, 13);
  });
});

describe('EPICS-time-to-produce hook', () => {
  it('observes value messages only, once each, with the age at hand-over', () => {
    const observed: number[] = [];
    const nowMs = 1_700_000_010_000;
    const sink: MessageSink = { send: () => undefined };
    const pipeline = new StreamPipeline(spec('SIM:X'), {
      sink,
      logger: silentLogger,
      now: () => nowMs,
      produceLatency: { observe: (seconds) => observed.push(seconds) },
    });
    pipeline.onConnection({ state: 'connected', timestampNs: BigInt(nowMs) * 1_000_000n });
    const update = (ms: number, severity: number) => ({
      value: { kind: 'scalar' as const, type: 'float64' as const, value: 1 },
      timestampNs: BigInt(ms) * 1_000_000n,
      alarm: { severity, status: 0, message: severity ? 'HIGH' : 'NO_ALARM' },
    });
    pipeline.onUpdate(update(nowMs - 250, 0));
    pipeline.onUpdate(update(nowMs - 100, 1));
    // An IOC clock ahead of ours counts as no delay rather than a negative one.
    pipeline.onUpdate(update(nowMs + 40, 0));
    // Refused by the timestamp filter (older than the last): not observed.
    pipeline.onUpdate(update(nowMs - 5000, 0));
    assert.deepEqual(observed, [0.25, 0.1, 0]);
    assert.equal(pipeline.counters.messages, 1 + 3 + 3);
  });
});

describe('health', () => {
  function inputs(overrides: Partial<HealthInputs> = {}): HealthInputs {
    return {
      started: () => true,
      stopping: () => false,
      configConsumerUp: () => true,
      probeOutputBrokers: async () => true,
      ...overrides,
    };
  }

  it('is ok when both Kafka clients are up, and says which is not otherwise', async () => {
    assert.deepEqual(await new HealthCheck(() => inputs()).check(), {
      healthy: true,
      status: 'ok',
      checks: { configConsumer: 'up', outputProducer: 'up' },
    });
    assert.deepEqual(await new HealthCheck(() => inputs({ probeOutputBrokers: async () => false })).check(), {
      healthy: false,
      status: 'unhealthy',
      checks: { configConsumer: 'up', outputProducer: 'down' },
    });
    const rejecting = new HealthCheck(() =>
      inputs({ probeOutputBrokers: () => Promise.reject(new Error('x')) }),
    );
    assert.equal((await rejecting.check()).checks.outputProducer, 'down');
    assert.deepEqual(
      (await new HealthCheck(() => inputs({ configConsumerUp: () => false })).check()).checks,
      {
        configConsumer: 'down',
        outputProducer: 'up',
      },
    );
  });

  it('says starting before start-up ends and stopping once asked to stop', async () => {
    const starting = await new HealthCheck(() =>
      inputs({ started: () => false, configConsumerUp: () => false, probeOutputBrokers: undefined }),
    ).check();
    assert.deepEqual(starting, {
      healthy: false,
      status: 'starting',
      checks: { configConsumer: 'starting', outputProducer: 'starting' },
    });
    const stopping = await new HealthCheck(() => inputs({ stopping: () => true })).check();
    assert.equal(stopping.status, 'stopping');
    assert.equal(stopping.healthy, false);
  });

  it('asks the brokers at most once per few seconds, and once for concurrent checks', async () => {
    let probes = 0;
    let nowMs = 0;
    const check = new HealthCheck(
      () =>
        inputs({
          probeOutputBrokers: async () => {
            probes++;
            return true;
          },
        }),
      () => nowMs,
    );
    await Promise.all([check.check(), check.check(), check.check()]);
    assert.equal(probes, 1);
    nowMs += 1000;
    await check.check();
    assert.equal(probes, 1);
    nowMs += 5000;
    await check.check();
    assert.equal(probes, 2);
    assert.equal(check.last?.healthy, true);
  });
});

describe('Carbon lines', () => {
  it('uses the reference prefix: host dots to underscores, lower case, no spaces', () => {
    assert.equal(carbonPrefix('Host.Example.org', 'My Forwarder'), 'forwarder.host_example_org.myforwarder');
  });

  it('flattens labels into the path, drops _total and info metrics, and adds the reference names', () => {
    const histogram = new Histogram([1]);
    histogram.observe(0.5);
    histogram.observe(1.5);
    const text = carbonLines(
      [
        {
          name: 'forwarder_info',
          help: '',
          type: 'gauge',
          samples: [{ labels: { version: '1.0' }, value: 1 }],
        },
        {
          name: 'forwarder_streams',
          help: '',
          type: 'gauge',
          samples: [
            { labels: { state: 'connected' }, value: 3 },
            { labels: { state: 'disconnected' }, value: 1 },
          ],
        },
        {
          name: 'forwarder_kafka_messages_delivered_total',
          help: '',
          type: 'counter',
          samples: [
            { labels: { producer: 'output' }, value: 40 },
            { labels: { producer: 'status' }, value: 2 },
          ],
        },
        {
          name: 'forwarder_stream_updates_total',
          help: '',
          type: 'counter',
          samples: [{ labels: { pv: 'SIM:A.B c/d', protocol: 'ca' }, value: 7 }],
        },
        {
          name: 'forwarder_epics_to_produce_seconds',
          help: '',
          type: 'histogram',
          histogram: histogram.snapshot(),
        },
        { name: 'process_cpu_seconds_total', help: '', type: 'counter', samples: [{ value: 1.25 }] },
      ],
      'forwarder.host.svc',
      1_700_000_000.9,
    );
    assert.equal(
      text,
      [
        'forwarder.host.svc.streams.connected 3 1700000000',
        'forwarder.host.svc.streams.disconnected 1 1700000000',
        'forwarder.host.svc.kafka_messages_delivered.output 40 1700000000',
        'forwarder.host.svc.kafka_messages_delivered.status 2 1700000000',
        'forwarder.host.svc.stream_updates.SIM:A_B_c_d.ca 7 1700000000',
        'forwarder.host.svc.epics_to_produce_seconds.sum 2 1700000000',
        'forwarder.host.svc.epics_to_produce_seconds.count 2 1700000000',
        'forwarder.host.svc.epics_to_produce_seconds.average 1 1700000000',
        'forwarder.host.svc.process_cpu_seconds 1.25 1700000000',
        'forwarder.host.svc.pvs_subscribed 4 1700000000',
        'forwarder.host.svc.successful_sends 40 1700000000',
        '',
      ].join('\n'),
    );
  });

  it('says the overall state: starting before the first health check, ok with every stream forwarding', (t) => {
    const world = new World();
    const metrics = metricsOf(world);
    t.after(() => metrics.close());
    world.statuses = [{ spec: spec('A'), counters: counters({ connection: 'connected' }) }];
    const state = (): Map<string, number> => {
      const scraped = values(renderExposition(metrics.collect()));
      return new Map([...scraped].filter(([series]) => series.startsWith('forwarder_state{')));
    };
    assert.equal(state().get('forwarder_state{state="ok"}'), 1);
    assert.deepEqual(
      [...state().values()].sort(),
      [0, 0, 0, 0, 1],
      'one series per state, 1 for the current one',
    );
    world.report = undefined;
    assert.equal(state().get('forwarder_state{state="starting"}'), 1);
    world.report = {
      healthy: false,
      status: 'unhealthy',
      checks: { configConsumer: 'up', outputProducer: 'down' },
    };
    world.statuses = [{ spec: spec('A'), counters: counters({ connection: 'disconnected' }) }];
    assert.equal(state().get('forwarder_state{state="unhealthy"}'), 1, 'health first');
  });

  it('sends an average of 0 for an empty histogram, as the reference does', () => {
    const text = carbonLines(
      [{ name: 'x_seconds', help: '', type: 'histogram', histogram: new Histogram([1]).snapshot() }],
      'p',
      0,
    );
    assert.match(text, /^p\.x_seconds\.average 0 0$/m);
  });
});
