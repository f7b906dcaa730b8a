/**
 * What /status.json and the operators' page show: the service, its health, Kafka and command figures, and
 * every stream with its connection state, last update and counts. The page is one self-contained HTML
 * document (no script, no external assets) that reloads itself; every text from outside (PV names, topics,
 * service id) is escaped.
 */
import type { StreamStatus } from '../forwarding/forwarder.js';
import type { CommandCounts } from '../forwarding/forwarder.js';
import type { ProducerView } from './kafka-metrics.js';
import type { HealthReport } from './health.js';
import type { SpoolFigures } from '../spool/spool.js';

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

export interface StreamEntry {
  readonly pv: string;
  readonly protocol: string;
  readonly topic: string;
  readonly schema: string;
  readonly periodic: boolean;
  readonly state: string;
  /** ISO 8601; null before the first update. */
  readonly lastUpdate: string | null;
  readonly updates: number;
  readonly messages: number;
  readonly resends: number;
  readonly rejected: { readonly timestamp: number; readonly unsupported: number; readonly error: number };
  /** Messages Kafka refused or failed to deliver, with the last reason and its time; absent when none. */
  readonly deliveryFailures?: { readonly count: number; readonly lastReason: string; readonly last: string };
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
  readonly generatedAt: string;
  readonly streamStates: Readonly<Record<string, number>>;
  readonly kafka: Readonly<
    Record<
      string,
      {
        readonly queued: number;
        readonly delivered: number;
        readonly deliveryErrors: number;
        readonly queueFull: number;
        readonly produceErrors: number;
        readonly inFlight: number;
      }
    >
  >;
  readonly commands: Readonly<CommandCounts>;
  readonly group?: GroupStatus;
  readonly spool?: SpoolStatus;
  readonly streams: readonly StreamEntry[];
}

/** Streams that need attention first (anything not connected), then by PV name, protocol, topic, schema. */
function streamOrder(a: StreamEntry, b: StreamEntry): number {
  const attention = Number(a.state === 'connected') - Number(b.state === 'connected');
  if (attention !== 0) return attention;
  for (const key of ['pv', 'protocol', 'topic', 'schema'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return 0;
}

export function statusDocument(sources: StatusSources, health: HealthReport, nowMs: number): StatusDocument {
  const streams = sources.streams().map(({ spec, counters, deliveryFailures }): StreamEntry => ({
    pv: spec.pvName,
    protocol: spec.protocol,
    topic: spec.topic,
    schema: spec.schema,
    periodic: spec.periodic,
    state: counters.connection,
    lastUpdate: counters.lastUpdateMs > 0 ? new Date(counters.lastUpdateMs).toISOString() : null,
    updates: counters.updates,
    messages: counters.messages,
    resends: counters.resends,
    rejected: { ...counters.rejected },
    ...(deliveryFailures && {
      deliveryFailures: {
        count: deliveryFailures.count,
        lastReason: deliveryFailures.reason,
        last: new Date(deliveryFailures.lastMs).toISOString(),
      },
    }),
  }));
  streams.sort(streamOrder);
  const streamStates: Record<string, number> = {};
  for (const stream of streams) streamStates[stream.state] = (streamStates[stream.state] ?? 0) + 1;
  const kafka: Record<string, StatusDocument['kafka'][string]> = {};
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
      startedAt: new Date(service.startedAtMs).toISOString(),
      uptimeSeconds: Math.round((nowMs - service.startedAtMs) / 1000),
    },
    health,
    generatedAt: new Date(nowMs).toISOString(),
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

function spoolFigures(spool: SpoolStatus): string {
  return [
    figure('spool bytes', `${formatBytes(spool.bytes)} of ${formatBytes(spool.maxBytes)}`),
    figure('waiting in the spool', spool.waiting),
    figure('oldest waiting', spool.waiting === 0 ? 'none' : formatAge(spool.oldestWaitingSeconds)),
    figure('spool drops', spool.dropped),
    ...(spool.writeError === undefined ? [] : [figure('spool cannot write', spool.writeError)]),
  ].join('\n');
}

/** `512 B`, `3.2 MB`, `1.5 GB`. */
function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function groupFigures(group: GroupStatus): string {
  const partitions = group.partitions.length === 0 ? 'none' : group.partitions.join(', ');
  return [
    figure('group', `${group.id}${group.member ? '' : ' (not a member now)'}`),
    figure(`partitions of ${group.partitionCount}`, partitions),
    figure('streams of the group', group.desiredStreams),
  ].join('\n');
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** `3 s`, `4 min`, `2 h`, `5 d`. */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** Seconds between reloads of the page. */
export const PAGE_REFRESH_S = 5;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.meta{color:#555;margin-bottom:1em}
.badge{display:inline-block;padding:.1em .6em;border-radius:.8em;font-weight:600;color:#fff}
.ok,.state-connected{background:#2e7d32}
.starting,.stopping,.state-never_connected{background:#9e9e9e}
.unhealthy,.state-disconnected,.state-destroyed,.state-cancelled,.state-finished,.state-remote_error,.state-unknown{background:#c62828}
.figures{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.figures div{border:1px solid #ddd;border-radius:.4em;padding:.5em .8em}
.figures b{display:block;font-size:1.3em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #eee;white-space:nowrap}
th{background:#f5f5f5;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.95em}
`;

function figure(label: string, value: string | number): string {
  return `<div><b>${escapeHtml(String(value))}</b>${escapeHtml(label)}</div>`;
}

export function statusPageHtml(document: StatusDocument, nowMs: number): string {
  const { service, health } = document;
  const output = document.kafka['output'];
  const rejected = (entry: StreamEntry): number =>
    entry.rejected.timestamp + entry.rejected.unsupported + entry.rejected.error;
  const rows = document.streams.map((entry) => {
    const age =
      entry.lastUpdate === null ? 'never' : `${formatAge((nowMs - Date.parse(entry.lastUpdate)) / 1000)} ago`;
    return (
      `<tr><td><code>${escapeHtml(entry.pv)}</code></td><td>${escapeHtml(entry.protocol)}</td>` +
      `<td>${escapeHtml(entry.topic)}</td><td>${escapeHtml(entry.schema)}${entry.periodic ? ' (periodic)' : ''}</td>` +
      `<td><span class="badge state-${escapeHtml(entry.state)}">${escapeHtml(entry.state.replaceAll('_', ' '))}</span></td>` +
      `<td title="${escapeHtml(entry.lastUpdate ?? '')}">${escapeHtml(age)}</td>` +
      `<td class="n">${entry.updates}</td><td class="n">${entry.messages}</td><td class="n">${rejected(entry)}</td></tr>`
    );
  });
  const states = Object.entries(document.streamStates)
    .map(([state, count]) => `${count} ${state.replaceAll('_', ' ')}`)
    .join(', ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${PAGE_REFRESH_S}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Forwarder ${escapeHtml(service.serviceId)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Forwarder ${escapeHtml(service.serviceId)} <span class="badge ${health.status}">${health.status}</span></h1>
<div class="meta">version ${escapeHtml(service.version)} · host ${escapeHtml(service.hostName)} · pid ${service.processId} · up ${formatAge(service.uptimeSeconds)} · config consumer ${health.checks.configConsumer} · output producer ${health.checks.outputProducer} · <a href="metrics">metrics</a> · <a href="status.json">status.json</a> · <a href="healthz">healthz</a></div>
<div class="figures">
${figure('streams', document.streams.length)}
${figure('by state', states === '' ? 'none' : states)}
${figure('Kafka messages delivered', output?.delivered ?? 0)}
${figure('Kafka in flight', output?.inFlight ?? 0)}
${figure('Kafka delivery errors', output?.deliveryErrors ?? 0)}
${figure('Kafka queue-full drops', output?.queueFull ?? 0)}
${figure('commands accepted', document.commands.accepted)}
${figure('commands rejected', document.commands.rejected)}
${document.group === undefined ? '' : groupFigures(document.group)}
${document.spool === undefined ? '' : spoolFigures(document.spool)}
</div>
<table>
<thead><tr><th>PV</th><th>Protocol</th><th>Topic</th><th>Schema</th><th>State</th><th>Last update</th><th>Updates</th><th>Messages</th><th>Rejected</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p class="meta">Generated ${escapeHtml(document.generatedAt)}; reloads every ${PAGE_REFRESH_S} s.</p>
</body>
</html>
`;
}
