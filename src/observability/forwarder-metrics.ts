/**
 * The forwarder's metrics. Counters are read when scraped from the fields the parts already keep
 * (StreamPipeline.counters, Forwarder.commandCounts, KafkaProducer.counters, the EPICS clients' counters), so
 * forwarding does no extra work for them; only the EPICS-to-produce histogram is fed as messages go out.
 * No series is labelled by PV unless per-PV metrics are asked for: with thousands of PVs that would swamp a
 * Prometheus server.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EpicsProtocol } from '../model/protocol.js';
import type { ConnectionState } from '../model/update.js';
import type { CommandCounts, StreamStatus } from '../forwarding/forwarder.js';
import type { StreamCounters } from '../forwarding/pipeline.js';
import type { GroupCounters } from '../group/membership.js';
import type { ProducerCounters } from '../kafka/producer.js';
import { LATENCY_STAGES, type ProducerLatency } from '../kafka/producer-statistics.js';
import {
  exponentialBuckets,
  type Histogram,
  type MetricSnapshot,
  MetricsRegistry,
  type Sample,
} from './metrics.js';

/** A Kafka producer as metrics see it. */
export interface ProducerView {
  readonly counters: Readonly<ProducerCounters>;
  readonly inFlight: number;
  /** librdkafka's latencies over its last statistics interval. */
  readonly latency?: ProducerLatency | undefined;
}

/** What both EPICS clients count of servers that break the protocol. */
export interface EpicsProtocolErrorCounters {
  /** Circuits closed because a server sent an invalid message. */
  readonly protocolErrors: number;
  /** Malformed UDP datagrams (search replies, beacons), ignored. */
  readonly badDatagrams: number;
}

/** An EPICS client as metrics see it: a record of monotonic counts, the protocol errors among them. */
export interface EpicsClientView {
  readonly counters: Readonly<EpicsProtocolErrorCounters>;
}

/** What metrics are read from; parts appear as the daemon starts them. */
export interface MetricSources {
  streams(): readonly StreamStatus[];
  commandCounts(): Readonly<CommandCounts> | undefined;
  /** By role: output, status, storage. */
  producers(): ReadonlyMap<string, ProducerView>;
  epicsClients(): ReadonlyMap<EpicsProtocol, EpicsClientView>;
  /** 1 while healthy (as last checked), 0 otherwise. */
  healthy(): boolean;
  /** With --group-id: the member's part in its forwarding group. */
  group(): GroupMetricsView | undefined;
}

/** A forwarding group member as metrics see it. */
export interface GroupMetricsView {
  readonly groupId: string;
  /** Whether the member holds an assignment from the group now (false before joining and after a lost session). */
  readonly inGroup: boolean;
  readonly partitionCount: number;
  readonly partitionsOwned: number;
  /** Streams the whole group is asked to forward. */
  readonly desiredStreams: number;
  /** Streams this member forwards. */
  readonly ownedStreams: number;
  readonly counters: Readonly<GroupCounters>;
}

export interface ForwarderMetricsOptions {
  /** Series per stream (updates, last update, connected), labelled by PV, protocol, topic and schema. */
  readonly perPv: boolean;
  readonly version: string;
  readonly serviceId: string;
  readonly hostName: string;
  /** Wall-clock ms when the process started. */
  readonly startedAtMs: number;
}

/** Every state a stream can be in, so each has a series even at 0. */
const STREAM_STATES: { readonly [S in ConnectionState | 'never_connected']: true } = {
  never_connected: true,
  connected: true,
  disconnected: true,
  destroyed: true,
  cancelled: true,
  finished: true,
  remote_error: true,
  unknown: true,
};

/** 0.5 ms to about 16 s: EPICS-to-Kafka delays of a healthy system sit in the low buckets, trouble in the high. */
export const LATENCY_BUCKETS: readonly number[] = exponentialBuckets(0.0005, 2, 16);

type Totals = {
  -readonly [K in 'updates' | 'messages' | 'resends' | 'timestamp' | 'unsupported' | 'error']: number;
};

function zeroTotals(): Totals {
  return { updates: 0, messages: 0, resends: 0, timestamp: 0, unsupported: 0, error: 0 };
}

function totalsOf(counters: Readonly<StreamCounters>, into: Totals): Totals {
  into.updates = counters.updates;
  into.messages = counters.messages;
  into.resends = counters.resends;
  into.timestamp = counters.rejected.timestamp;
  into.unsupported = counters.rejected.unsupported;
  into.error = counters.rejected.error;
  return into;
}

/**
 * Process-wide totals of the per-stream counters that never go down when a stream is removed: each scrape adds
 * what every pipeline counted since the previous one, and a removed pipeline's last counts are added once it is
 * gone (its counters object is kept until then). Only a stream added and removed between two scrapes goes
 * uncounted.
 */
export class StreamTotals {
  readonly totals: Totals = zeroTotals();
  private readonly lastSeen = new Map<Readonly<StreamCounters>, Totals>();
  private readonly current = zeroTotals();

  update(live: readonly Readonly<StreamCounters>[]): void {
    const present = new Set<Readonly<StreamCounters>>();
    for (const counters of live) {
      present.add(counters);
      let seen = this.lastSeen.get(counters);
      if (seen === undefined) {
        seen = zeroTotals();
        this.lastSeen.set(counters, seen);
      }
      this.fold(counters, seen);
    }
    for (const [counters, seen] of this.lastSeen) {
      if (present.has(counters)) continue;
      this.fold(counters, seen);
      this.lastSeen.delete(counters);
    }
  }

  private fold(counters: Readonly<StreamCounters>, seen: Totals): void {
    const now = totalsOf(counters, this.current);
    for (const key of Object.keys(now) as (keyof Totals)[]) {
      this.totals[key] += now[key] - seen[key];
      seen[key] = now[key];
    }
  }
}

/** Event-loop delay over the last complete window (the current one until the first completes). */
class EventLoopLag {
  private readonly monitor = monitorEventLoopDelay({ resolution: 20 });
  private last: { p50: number; p99: number; max: number } | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs: number) {
    this.monitor.enable();
    this.timer = setInterval(() => {
      this.last = this.read();
      this.monitor.reset();
    }, windowMs);
    this.timer.unref();
  }

  samples(): Sample[] {
    const { p50, p99, max } = this.last ?? this.read();
    return [
      { labels: { quantile: '0.5' }, value: p50 },
      { labels: { quantile: '0.99' }, value: p99 },
      { labels: { quantile: '1' }, value: max },
    ];
  }

  close(): void {
    clearInterval(this.timer);
    this.monitor.disable();
  }

  private read(): { p50: number; p99: number; max: number } {
    // Values are ns; with no sample yet the monitor reports NaN or a huge minimum.
    const seconds = (ns: number): number => (Number.isFinite(ns) && this.monitor.count > 0 ? ns / 1e9 : 0);
    return {
      p50: seconds(this.monitor.percentile(50)),
      p99: seconds(this.monitor.percentile(99)),
      max: seconds(this.monitor.max),
    };
  }
}

const EVENT_LOOP_WINDOW_MS = 10_000;

/** The EPICS protocols whose clients talk to servers (the fake protocol has none). */
const PROTOCOLS_WITH_SERVERS: readonly EpicsProtocol[] = ['ca', 'pva'];

/** `searchDatagramsSent` → `search_datagrams_sent`. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `searchDatagramsSent` → `search datagrams sent`. */
function words(name: string): string {
  return snakeCase(name).replace(/_/g, ' ');
}

export class ForwarderMetrics {
  readonly registry = new MetricsRegistry();
  /** EPICS timestamp to hand-over to Kafka, per value message. */
  readonly produceLatency: Histogram;
  private readonly totals = new StreamTotals();
  private readonly eventLoop = new EventLoopLag(EVENT_LOOP_WINDOW_MS);
  /** The streams as of the current scrape. */
  private streams: readonly StreamStatus[] = [];

  constructor(
    private readonly sources: MetricSources,
    options: ForwarderMetricsOptions,
  ) {
    const registry = this.registry;
    registry.gauge('forwarder_info', 'Version and identity of this forwarder (always 1).', () => [
      {
        labels: { version: options.version, service_id: options.serviceId, host: options.hostName },
        value: 1,
      },
    ]);
    registry.gauge('forwarder_healthy', '1 when /healthz last found the forwarder healthy, else 0.', () =>
      sources.healthy() ? 1 : 0,
    );
    registry.gauge('forwarder_streams', 'Configured streams by EPICS connection state.', () =>
      this.streamsByState(),
    );

    const totals = this.totals.totals;
    registry.counter(
      'forwarder_updates_received_total',
      'EPICS updates received by the stream pipelines.',
      () => totals.updates,
    );
    registry.counter(
      'forwarder_messages_forwarded_total',
      'Messages handed to Kafka by the stream pipelines (values, alarms, connection states, re-sends).',
      () => totals.messages,
    );
    registry.counter(
      'forwarder_messages_resent_total',
      'Periodic re-sends of unchanged messages (included in forwarder_messages_forwarded_total).',
      () => totals.resends,
    );
    registry.counter(
      'forwarder_messages_rejected_total',
      'Messages not forwarded, by reason: timestamp (refused by the timestamp filter), unsupported ' +
        '(the schema cannot carry the value), error (any other serialisation failure).',
      () => [
        { labels: { reason: 'timestamp' }, value: totals.timestamp },
        { labels: { reason: 'unsupported' }, value: totals.unsupported },
        { labels: { reason: 'error' }, value: totals.error },
      ],
    );
    this.produceLatency = registry.histogram(
      'forwarder_epics_to_produce_seconds',
      'Age of each value message (from its EPICS timestamp) when handed to Kafka.',
      LATENCY_BUCKETS,
    );

    const producerCounter = (name: string, help: string, read: (view: ProducerView) => number): void =>
      registry.counter(name, `${help} By producer: output (PV data), status, storage.`, () =>
        this.byProducer(read),
      );
    producerCounter(
      'forwarder_kafka_messages_queued_total',
      'Messages queued in librdkafka.',
      (view) => view.counters.queued,
    );
    producerCounter(
      'forwarder_kafka_messages_delivered_total',
      'Messages acknowledged by Kafka.',
      (view) => view.counters.delivered,
    );
    producerCounter(
      'forwarder_kafka_delivery_errors_total',
      'Messages that failed delivery (broker error, message timed out).',
      (view) => view.counters.deliveryErrors,
    );
    producerCounter(
      'forwarder_kafka_queue_full_total',
      "Messages dropped because librdkafka's local queue was full.",
      (view) => view.counters.queueFull,
    );
    producerCounter(
      'forwarder_kafka_produce_errors_total',
      'Messages librdkafka refused for another reason (too large, unknown topic, ...).',
      (view) => view.counters.produceErrors,
    );
    registry.gauge(
      'forwarder_kafka_in_flight_messages',
      'Messages queued and not yet acknowledged or failed (the producer queue depth), by producer.',
      () => this.byProducer((view) => view.inFlight),
    );
    registry.gauge(
      'forwarder_kafka_latency_seconds',
      "librdkafka's latencies over its last statistics interval (1 s), slowest broker, by producer, stage " +
        '(queue: produce to joining a request, linger.ms included; outbuf: request waiting for the socket; ' +
        'rtt: request sent to broker response) and quantile (0.5, 0.99, 1 = max).',
      () => this.producerLatencies(),
    );

    registry.counter('forwarder_config_commands_total', 'Config commands by outcome.', () => {
      const counts = sources.commandCounts();
      return [
        { labels: { outcome: 'accepted' }, value: counts?.accepted ?? 0 },
        { labels: { outcome: 'rejected' }, value: counts?.rejected ?? 0 },
      ];
    });
    registry.counter(
      'forwarder_config_streams_skipped_total',
      'Invalid streams skipped inside otherwise valid config commands.',
      () => sources.commandCounts()?.skippedStreams ?? 0,
    );
    registry.counter(
      'forwarder_epics_protocol_errors_total',
      'Protocol errors from EPICS servers, by protocol and kind: circuit (a TCP connection closed for an ' +
        'invalid message; its channels reconnect), datagram (a malformed UDP datagram, ignored).',
      () => this.protocolErrors(),
    );
    registry.collector(() => this.epicsClientFamilies());
    registry.collector(() => this.groupFamilies());

    if (options.perPv) this.registerPerStream();
    this.registerProcess(options.startedAtMs);
  }

  /** Every family as of now. */
  collect(): MetricSnapshot[] {
    this.streams = this.sources.streams();
    this.totals.update(this.streams.map((stream) => stream.counters));
    return this.registry.collect();
  }

  close(): void {
    this.eventLoop.close();
  }

  private streamsByState(): Sample[] {
    const counts = new Map<string, number>(Object.keys(STREAM_STATES).map((state) => [state, 0]));
    for (const { counters } of this.streams) {
      counts.set(counters.connection, (counts.get(counters.connection) ?? 0) + 1);
    }
    return [...counts].map(([state, value]) => ({ labels: { state }, value }));
  }

  private byProducer(read: (view: ProducerView) => number): Sample[] {
    return [...this.sources.producers()].map(([producer, view]) => ({
      labels: { producer },
      value: read(view),
    }));
  }

  private producerLatencies(): Sample[] {
    const samples: Sample[] = [];
    for (const [producer, view] of this.sources.producers()) {
      for (const stage of LATENCY_STAGES) {
        const quantiles = view.latency?.[stage];
        if (quantiles === undefined) continue;
        samples.push(
          { labels: { producer, stage, quantile: '0.5' }, value: quantiles.p50 },
          { labels: { producer, stage, quantile: '0.99' }, value: quantiles.p99 },
          { labels: { producer, stage, quantile: '1' }, value: quantiles.max },
        );
      }
    }
    return samples;
  }

  /** Both protocols and kinds always have a series, 0 until the protocol's client exists. */
  private protocolErrors(): Sample[] {
    const clients = this.sources.epicsClients();
    return PROTOCOLS_WITH_SERVERS.flatMap((protocol) => {
      const counters = clients.get(protocol)?.counters;
      return [
        { labels: { protocol, kind: 'circuit' }, value: counters?.protocolErrors ?? 0 },
        { labels: { protocol, kind: 'datagram' }, value: counters?.badDatagrams ?? 0 },
      ];
    });
  }

  private *epicsClientFamilies(): Iterable<MetricSnapshot> {
    for (const [protocol, client] of this.sources.epicsClients()) {
      for (const [field, value] of Object.entries(client.counters)) {
        if (typeof value !== 'number') continue;
        yield {
          name: `forwarder_${protocol}_${snakeCase(field)}_total`,
          help: `${protocol.toUpperCase()} client: ${words(field)}.`,
          type: 'counter',
          samples: [{ value }],
        };
      }
    }
  }

  /** Only a group member has these. */
  private *groupFamilies(): Iterable<MetricSnapshot> {
    const group = this.sources.group();
    if (group === undefined) return;
    const labels = { group: group.groupId };
    const family = (
      name: string,
      help: string,
      type: 'gauge' | 'counter',
      value: number,
    ): MetricSnapshot => ({
      name,
      help,
      type,
      samples: [{ labels, value }],
    });
    yield family(
      'forwarder_group_member',
      '1 while this forwarder holds an assignment from its forwarding group, else 0.',
      'gauge',
      group.inGroup ? 1 : 0,
    );
    yield family(
      'forwarder_group_partitions',
      'Partitions of the coordination topic: the most members that can get streams.',
      'gauge',
      group.partitionCount,
    );
    yield family(
      'forwarder_group_partitions_owned',
      'Coordination-topic partitions assigned to this member.',
      'gauge',
      group.partitionsOwned,
    );
    yield family(
      'forwarder_group_streams_desired',
      'Streams the whole group is asked to forward.',
      'gauge',
      group.desiredStreams,
    );
    yield family(
      'forwarder_group_streams_owned',
      'Streams this member forwards: those whose PV hashes to its partitions.',
      'gauge',
      group.ownedStreams,
    );
    yield family(
      'forwarder_group_rebalances_total',
      'Rebalance events this member handled (assignments and revocations).',
      'counter',
      group.counters.rebalances,
    );
    yield {
      name: 'forwarder_group_partition_changes_total',
      help: 'Partitions assigned to, revoked from, or lost by this member (lost: the session timed out).',
      type: 'counter',
      samples: [
        { labels: { ...labels, change: 'assigned' }, value: group.counters.partitionsAssigned },
        { labels: { ...labels, change: 'revoked' }, value: group.counters.partitionsRevoked },
        { labels: { ...labels, change: 'lost' }, value: group.counters.partitionsLost },
      ],
    };
  }

  private registerPerStream(): void {
    const perStream =
      (read: (stream: StreamStatus) => number): (() => Sample[]) =>
      () =>
        this.streams.map((stream) => ({
          labels: {
            pv: stream.spec.pvName,
            protocol: stream.spec.protocol,
            topic: stream.spec.topic,
            schema: stream.spec.schema,
          },
          value: read(stream),
        }));
    this.registry.counter(
      'forwarder_stream_updates_total',
      'EPICS updates received, per stream.',
      perStream((stream) => stream.counters.updates),
    );
    this.registry.gauge(
      'forwarder_stream_last_update_timestamp_seconds',
      'Wall-clock time of the last update received, per stream (0: none yet).',
      perStream((stream) => stream.counters.lastUpdateMs / 1000),
    );
    this.registry.gauge(
      'forwarder_stream_connected',
      '1 while the stream is connected to its PV, else 0.',
      perStream((stream) => (stream.counters.connection === 'connected' ? 1 : 0)),
    );
  }

  private registerProcess(startedAtMs: number): void {
    const registry = this.registry;
    registry.gauge(
      'process_start_time_seconds',
      'Start time of the process (Unix seconds).',
      () => startedAtMs / 1000,
    );
    registry.counter('process_cpu_seconds_total', 'CPU time used by the process (user and system).', () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    });
    registry.gauge('process_resident_memory_bytes', 'Resident set size.', () => process.memoryUsage.rss());
    registry.gauge('nodejs_heap_bytes', 'V8 heap: used and total.', () => {
      const { heapUsed, heapTotal } = process.memoryUsage();
      return [
        { labels: { kind: 'used' }, value: heapUsed },
        { labels: { kind: 'total' }, value: heapTotal },
      ];
    });
    registry.gauge(
      'nodejs_external_memory_bytes',
      'Memory outside the V8 heap held by JavaScript objects (Buffers among them).',
      () => process.memoryUsage().external,
    );
    registry.gauge(
      'nodejs_eventloop_lag_seconds',
      `Event-loop delay over the last ${EVENT_LOOP_WINDOW_MS / 1000} s: median, 99th percentile and maximum.`,
      () => this.eventLoop.samples(),
    );
  }
}
