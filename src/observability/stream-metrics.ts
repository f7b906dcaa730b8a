/**
 * Metrics of the stream pipelines: streams by connection state and by what keeps them from forwarding, totals of
 * what they received, forwarded and rejected (kept across removed streams), the EPICS-to-produce latency
 * histogram, and, when asked for, series per stream labelled by PV.
 */
import type { ConnectionState } from '../model/update.js';
import type { StreamStatus } from '../forwarding/forwarder.js';
import type { StreamCounters } from '../forwarding/pipeline.js';
import { type StreamProblem, streamProblem } from '../forwarding/stream-problem.js';
import { problemCounts } from './status-document.js';
import { exponentialBuckets, type Histogram, type MetricsRegistry, type Sample } from './metrics.js';

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

export class StreamMetrics {
  /** EPICS timestamp to hand-over to Kafka, per value message. */
  readonly produceLatency: Histogram;
  private readonly totals = new StreamTotals();
  /** The streams as of the current scrape. */
  private streams: readonly StreamStatus[] = [];
  /** Streams by problem, as of the current scrape. */
  problems: Readonly<Record<StreamProblem, number>> = problemCounts([]);

  constructor(registry: MetricsRegistry) {
    registry.gauge('forwarder_streams', 'Configured streams by EPICS connection state.', () =>
      this.streamsByState(),
    );
    registry.gauge(
      'forwarder_streams_with_problem',
      'Streams not forwarding, by problem: disconnected, never_connected, rejecting (every update refused), ' +
        'delivery_failing (Kafka refuses or fails to deliver their messages).',
      () => Object.entries(this.problems).map(([problem, value]) => ({ labels: { problem }, value })),
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
  }

  /** At the start of a scrape: the streams as of now, and what they counted since the last scrape. */
  update(streams: readonly StreamStatus[], nowMs: number): void {
    this.streams = streams;
    this.problems = problemCounts(streams.map((stream) => streamProblem(stream, nowMs)?.problem));
    this.totals.update(streams.map((stream) => stream.counters));
  }

  /** Series per stream (updates, last update, connected), labelled by PV, protocol, topic and schema. */
  registerPerStream(registry: MetricsRegistry): void {
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
    registry.counter(
      'forwarder_stream_updates_total',
      'EPICS updates received, per stream.',
      perStream((stream) => stream.counters.updates),
    );
    registry.gauge(
      'forwarder_stream_last_update_timestamp_seconds',
      'Wall-clock time of the last update received, per stream (0: none yet).',
      perStream((stream) => stream.counters.lastUpdateMs / 1000),
    );
    registry.gauge(
      'forwarder_stream_connected',
      '1 while the stream is connected to its PV, else 0.',
      perStream((stream) => (stream.counters.connection === 'connected' ? 1 : 0)),
    );
  }

  private streamsByState(): Sample[] {
    const counts = new Map<string, number>(Object.keys(STREAM_STATES).map((state) => [state, 0]));
    for (const { counters } of this.streams) {
      counts.set(counters.connection, (counts.get(counters.connection) ?? 0) + 1);
    }
    return [...counts].map(([state, value]) => ({ labels: { state }, value }));
  }
}
