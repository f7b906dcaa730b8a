/**
 * /status.json: the service, its health and overall state, Kafka and command figures, and every stream with its
 * connection state and since when, its server, last value and alarm, and what keeps it from forwarding, if
 * anything. Streams with a problem come first (disconnected, never connected, rejecting or failing delivery), then
 * the rest by PV name. The status page is drawn from this document.
 *
 * `kafka` holds one object of figures per producer role; the page shows every figure in it, nested objects as
 * their own boxes, so figures added there (a disk spool's, say) appear on the page without changing it.
 */
import type { SpoolFigures } from '../spool/spool.js';
import type { CommandCounts, StreamStatus } from '../forwarding/forwarder.js';
import { STREAM_PROBLEMS, type StreamProblem, streamProblem } from '../forwarding/stream-problem.js';
import { severityName, valueText } from '../model/value-text.js';
import type { HealthReport } from './health.js';
import type { ProducerView } from './kafka-metrics.js';

export interface ServiceDescription {
  readonly version: string;
  readonly serviceId: string;
  readonly hostName: string;
  readonly processId: number;
  /** Wall-clock ms. */
  readonly startedAtMs: number;
}

export interface StatusSources {
  readonly service: ServiceDescription;
  streams(): readonly StreamStatus[];
  producers(): ReadonlyMap<string, ProducerView>;
  commandCounts(): Readonly<CommandCounts> | undefined;
  /** With --group-id: this member's part in its forwarding group. */
  group?(): GroupStatus | undefined;
  /** With --spool-dir: the disk spool. */
  spool?(): SpoolFigures | undefined;
}

/** The disk spool, as /status.json shows it. */
export interface SpoolStatus {
  readonly bytes: number;
  readonly maxBytes: number;
  /** Messages waiting to be handed to Kafka. */
  readonly waiting: number;
  /** Age of the oldest waiting message (by its Kafka timestamp); 0 when none waits. */
  readonly oldestWaitingSeconds: number;
  readonly appended: number;
  readonly replayed: number;
  readonly dropped: number;
  readonly tornBytes: number;
  readonly corruptRecords: number;
  /** Only while writing to the spool directory fails: the error. */
  readonly writeError?: string;
}

/** A forwarding group member's part in its group, as /status.json shows it. */
export interface GroupStatus {
  readonly id: string;
  /** Whether the member holds an assignment from the group. */
  readonly member: boolean;
  readonly partitions: readonly number[];
  readonly partitionCount: number;
  /** Streams the whole group is asked to forward; `streams` lists this member's. */
  readonly desiredStreams: number;
}

/**
 * The forwarder as a whole: its health when that is not ok (starting, unhealthy, stopping), else `degraded` while
 * any stream has a problem, else `ok`. /healthz stays a liveness check of Kafka; this says whether PVs are missing.
 */
export type OverallState = HealthReport['status'] | 'degraded';
export const OVERALL_STATES: readonly OverallState[] = [
  'ok',
  'degraded',
  'starting',
  'unhealthy',
  'stopping',
];

export interface StreamEntry {
  readonly pv: string;
  readonly protocol: string;
  readonly topic: string;
  readonly schema: string;
  readonly periodic: boolean;
  /** EPICS connection state. */
  readonly state: string;
  /** ISO 8601: when the connection state last changed (for a stream never connected: when it was added). */
  readonly since: string | null;
  /** The server of the current or last connection; null before the first. */
  readonly server: string | null;
  /** What keeps the stream from forwarding; null when it forwards. */
  readonly problem: StreamProblem | null;
  /** Why, as the EPICS client, the serialiser or Kafka said; null when nothing was said. */
  readonly reason: string | null;
  /** The last value as short text (numbers with the PV's precision and units); null before the first update. */
  readonly value: string | null;
  /** The alarm of the last update; null before the first. */
  readonly alarm: { readonly severity: string; readonly message: string } | null;
  /** ISO 8601; null before the first update. */
  readonly lastUpdate: string | null;
  readonly updates: number;
  readonly messages: number;
  readonly resends: number;
  readonly rejected: { readonly timestamp: number; readonly unsupported: number; readonly error: number };
  /** Messages Kafka refused or failed to deliver, with the last reason and its time; absent when none. */
  readonly deliveryFailures?: { readonly count: number; readonly lastReason: string; readonly last: string };
}

export interface ProducerFigures {
  readonly queued: number;
  readonly delivered: number;
  readonly deliveryErrors: number;
  readonly queueFull: number;
  readonly produceErrors: number;
  readonly inFlight: number;
}

export interface StatusDocument {
  readonly service: {
    readonly software: 'epics-kafka-forwarder';
    readonly version: string;
    readonly serviceId: string;
    readonly hostName: string;
    readonly processId: number;
    readonly startedAt: string;
    readonly uptimeSeconds: number;
  };
  readonly health: HealthReport;
  readonly overall: OverallState;
  /** Streams by problem; every problem listed, 0 when none. */
  readonly problems: Readonly<Record<StreamProblem, number>>;
  readonly generatedAt: string;
  readonly streamStates: Readonly<Record<string, number>>;
  readonly kafka: Readonly<Record<string, ProducerFigures>>;
  readonly commands: Readonly<CommandCounts>;
  readonly group?: GroupStatus;
  readonly spool?: SpoolStatus;
  readonly streams: readonly StreamEntry[];
}

/** Problems first, in STREAM_PROBLEMS' order (rejecting and failing delivery together), then the rest. */
function rank(entry: StreamEntry): number {
  if (entry.problem === null) return 3;
  return Math.min(STREAM_PROBLEMS.indexOf(entry.problem), 2);
}

/** Streams needing attention first, then by PV name, protocol, topic, schema. */
function streamOrder(a: StreamEntry, b: StreamEntry): number {
  const attention = rank(a) - rank(b);
  if (attention !== 0) return attention;
  for (const key of ['pv', 'protocol', 'topic', 'schema'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return 0;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function streamEntry(status: StreamStatus, nowMs: number): StreamEntry {
  const { spec, counters, deliveryFailures } = status;
  const verdict = streamProblem(status, nowMs);
  const last = counters.lastUpdate;
  return {
    pv: spec.pvName,
    protocol: spec.protocol,
    topic: spec.topic,
    schema: spec.schema,
    periodic: spec.periodic,
    state: counters.connection,
    since: counters.connectionSinceMs > 0 ? iso(counters.connectionSinceMs) : null,
    server: counters.server ?? null,
    problem: verdict?.problem ?? null,
    reason: verdict?.reason ?? null,
    value: last === undefined ? null : valueText(last.value, last.display),
    alarm: last === undefined ? null : { severity: severityName(last.alarm), message: last.alarm.message },
    lastUpdate: counters.lastUpdateMs > 0 ? iso(counters.lastUpdateMs) : null,
    updates: counters.updates,
    messages: counters.messages,
    resends: counters.resends,
    rejected: { ...counters.rejected },
    ...(deliveryFailures && {
      deliveryFailures: {
        count: deliveryFailures.count,
        lastReason: deliveryFailures.reason,
        last: iso(deliveryFailures.lastMs),
      },
    }),
  };
}

/** Streams by problem, every problem present. */
export function problemCounts(
  problems: Iterable<StreamProblem | null | undefined>,
): Record<StreamProblem, number> {
  const counts = Object.fromEntries(STREAM_PROBLEMS.map((problem) => [problem, 0])) as Record<
    StreamProblem,
    number
  >;
  for (const problem of problems) if (problem) counts[problem]++;
  return counts;
}

export function overallState(
  health: HealthReport,
  problems: Readonly<Record<StreamProblem, number>>,
): OverallState {
  if (health.status !== 'ok') return health.status;
  return Object.values(problems).some((count) => count > 0) ? 'degraded' : 'ok';
}

export function statusDocument(sources: StatusSources, health: HealthReport, nowMs: number): StatusDocument {
  const streams = sources.streams().map((status) => streamEntry(status, nowMs));
  streams.sort(streamOrder);
  const streamStates: Record<string, number> = {};
  for (const stream of streams) streamStates[stream.state] = (streamStates[stream.state] ?? 0) + 1;
  const problems = problemCounts(streams.map((stream) => stream.problem));
  const kafka: Record<string, ProducerFigures> = {};
  for (const [role, view] of sources.producers()) kafka[role] = { ...view.counters, inFlight: view.inFlight };
  const { service } = sources;
  const group = sources.group?.();
  const spool = sources.spool?.();
  return {
    service: {
      software: 'epics-kafka-forwarder',
      version: service.version,
      serviceId: service.serviceId,
      hostName: service.hostName,
      processId: service.processId,
      startedAt: iso(service.startedAtMs),
      uptimeSeconds: Math.round((nowMs - service.startedAtMs) / 1000),
    },
    health,
    overall: overallState(health, problems),
    problems,
    generatedAt: iso(nowMs),
    streamStates,
    kafka,
    commands: { ...(sources.commandCounts() ?? { accepted: 0, rejected: 0, skippedStreams: 0 }) },
    ...(group === undefined ? {} : { group }),
    ...(spool === undefined ? {} : { spool: spoolStatus(spool, nowMs) }),
    streams,
  };
}

export function spoolStatus(spool: SpoolFigures, nowMs: number): SpoolStatus {
  return {
    bytes: spool.bytes,
    maxBytes: spool.maxBytes,
    waiting: spool.waiting,
    oldestWaitingSeconds:
      spool.oldestWaitingMs === undefined
        ? 0
        : Math.max(0, Math.round((nowMs - spool.oldestWaitingMs) / 1000)),
    appended: spool.appended,
    replayed: spool.replayed,
    dropped: spool.dropped,
    tornBytes: spool.recovery.tornBytes,
    corruptRecords: spool.recovery.corruptRecords,
    ...(spool.writeError === undefined ? {} : { writeError: spool.writeError }),
  };
}
