/**
 * What `status` shows: the newest x5f2 message of each forwarder instance read from a status topic, as a table
 * or as JSON. The stream entries of the status JSON are shown as sent: the reference's keys (channel_name,
 * protocol, output_topic, schema) and this forwarder's additions (periodic, connection) when present. Members of a
 * forwarding group also report their group; the view sums each group up and names the streams nobody forwards.
 */
import type { X5f2Message } from '../schemas/index.js';
import { formatTable } from './table.js';

/** The reference's fixed status interval, for messages that do not say theirs. */
const DEFAULT_INTERVAL_MS = 4_000;
/** An instance counts as silent once this many of its status intervals passed without a message. */
const SILENT_AFTER_INTERVALS = 3;

export interface ForwarderInstance {
  readonly serviceId: string;
  readonly hostName: string;
  readonly processId: number;
  readonly softwareName: string;
  readonly softwareVersion: string;
  readonly updateIntervalMs: number;
  /** Kafka timestamp of its newest status message. */
  readonly lastSeenMs: number;
  /** 'silent' when several status intervals passed since its last message: stopped, hung or cut off. */
  readonly state: 'running' | 'silent';
  /** The streams of its newest status message; null when the status JSON could not be read. */
  readonly streams: readonly Readonly<Record<string, unknown>>[] | null;
  readonly statusJsonError?: string;
  /** A forwarding group member's part in its group, as its status says. */
  readonly group?: GroupMembership;
  /** Its disk spool, when it has one. */
  readonly spool?: SpoolState;
}

/** The `spool` of a status JSON. */
export interface SpoolState {
  readonly bytes: number;
  readonly waiting: number;
  readonly oldestWaitingSeconds: number;
  readonly dropped: number;
  /** While the spool cannot write to disk: the error. */
  readonly writeError?: string;
}

/** The `group` of a member's status JSON. */
export interface GroupMembership {
  readonly id: string;
  readonly partitions: readonly number[];
  readonly partitionCount: number;
  readonly desiredStreams: number;
  readonly storageTopic?: string;
}

/** A stream as status entries name it: PV, protocol label (CA, PVA, FAKE), topic, schema. */
export interface StreamName {
  readonly pv: string;
  readonly protocol: string;
  readonly topic: string;
  readonly schema: string;
}

/** A forwarding group as its running members' statuses show it. */
export interface GroupSummary {
  readonly id: string;
  /** Service ids of the running members. */
  readonly members: readonly string[];
  readonly partitionCount: number;
  /** Partitions no running member holds: their streams are forwarded by nobody. */
  readonly unassignedPartitions: readonly number[];
  /** Streams the group is asked to forward (the largest figure a member reports). */
  readonly desiredStreams: number;
  /** Distinct streams the running members forward. */
  readonly forwardedStreams: number;
  /** Desired streams no running member forwards; undefined when the desired set is not known. */
  readonly notForwarded?: readonly StreamName[];
}

/** Keeps the newest status message per instance (service id on a host; a restart replaces the old entry). */
export class StatusCollector {
  private readonly newest = new Map<string, { message: X5f2Message; timestampMs: number }>();

  add(message: X5f2Message, timestampMs: number): void {
    const key = `${message.hostName}\u0000${message.serviceId}`;
    const known = this.newest.get(key);
    if (known === undefined || known.timestampMs <= timestampMs)
      this.newest.set(key, { message, timestampMs });
  }

  /** Every instance seen, by service id then host. */
  instances(nowMs: number): ForwarderInstance[] {
    return [...this.newest.values()]
      .map(({ message, timestampMs }) => instanceOf(message, timestampMs, nowMs))
      .sort((a, b) => a.serviceId.localeCompare(b.serviceId) || a.hostName.localeCompare(b.hostName));
  }
}

function instanceOf(message: X5f2Message, lastSeenMs: number, nowMs: number): ForwarderInstance {
  const interval = message.updateIntervalMs > 0 ? message.updateIntervalMs : DEFAULT_INTERVAL_MS;
  const parsed = parseStatusJson(message.statusJson);
  return {
    serviceId: message.serviceId,
    hostName: message.hostName,
    processId: message.processId,
    softwareName: message.softwareName,
    softwareVersion: message.softwareVersion,
    updateIntervalMs: message.updateIntervalMs,
    lastSeenMs,
    state: nowMs - lastSeenMs > SILENT_AFTER_INTERVALS * interval ? 'silent' : 'running',
    ...parsed,
  };
}

function parseStatusJson(
  text: string,
): Pick<ForwarderInstance, 'streams' | 'statusJsonError' | 'group' | 'spool'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { streams: null, statusJsonError: `status JSON is not valid JSON: ${(error as Error).message}` };
  }
  const streams =
    typeof parsed === 'object' && parsed !== null ? (parsed as { streams?: unknown }).streams : null;
  if (!Array.isArray(streams) || !streams.every((stream) => typeof stream === 'object' && stream !== null)) {
    return { streams: null, statusJsonError: 'status JSON has no "streams" list' };
  }
  const group = groupOf((parsed as { group?: unknown }).group);
  const spool = spoolOf((parsed as { spool?: unknown }).spool);
  return {
    streams: streams as Record<string, unknown>[],
    ...(group === undefined ? {} : { group }),
    ...(spool === undefined ? {} : { spool }),
  };
}

function spoolOf(value: unknown): SpoolState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { bytes, waiting, oldest_waiting_s, dropped, write_error } = value as Record<string, unknown>;
  const number = (field: unknown): number => (typeof field === 'number' ? field : 0);
  return {
    bytes: number(bytes),
    waiting: number(waiting),
    oldestWaitingSeconds: number(oldest_waiting_s),
    dropped: number(dropped),
    ...(typeof write_error === 'string' ? { writeError: write_error } : {}),
  };
}

function groupOf(value: unknown): GroupMembership | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, partitions, partition_count, desired_streams, storage_topic } = value as Record<
    string,
    unknown
  >;
  if (typeof id !== 'string' || !Array.isArray(partitions) || typeof partition_count !== 'number')
    return undefined;
  return {
    id,
    partitions: partitions.filter((partition): partition is number => typeof partition === 'number'),
    partitionCount: partition_count,
    desiredStreams: typeof desired_streams === 'number' ? desired_streams : 0,
    ...(typeof storage_topic === 'string' ? { storageTopic: storage_topic } : {}),
  };
}

const streamKey = ({ pv, protocol, topic, schema }: StreamName): string =>
  [pv, protocol, topic, schema].join('\u0000');

function streamNameOf(entry: Readonly<Record<string, unknown>>): StreamName {
  return {
    pv: String(entry['channel_name']),
    protocol: String(entry['protocol']),
    topic: String(entry['output_topic']),
    schema: String(entry['schema']),
  };
}

/** Storage topics named by the running members of each group: where the group's desired stream set is. */
export function groupStorageTopics(instances: readonly ForwarderInstance[]): Map<string, string> {
  const topics = new Map<string, string>();
  for (const { group, state } of instances) {
    if (group?.storageTopic !== undefined && state === 'running') topics.set(group.id, group.storageTopic);
  }
  return topics;
}

/**
 * One summary per group with running members. `desired` gives a group's desired stream set when known (read from
 * its storage topic), so that the streams nobody forwards can be named.
 */
export function groupSummaries(
  instances: readonly ForwarderInstance[],
  desired: ReadonlyMap<string, readonly StreamName[]> = new Map(),
): GroupSummary[] {
  const byGroup = new Map<string, ForwarderInstance[]>();
  for (const instance of instances) {
    if (instance.group === undefined || instance.state !== 'running') continue;
    byGroup.set(instance.group.id, [...(byGroup.get(instance.group.id) ?? []), instance]);
  }
  return [...byGroup].map(([id, members]) => {
    const partitionCount = Math.max(...members.map((member) => member.group?.partitionCount ?? 0));
    const assigned = new Set(members.flatMap((member) => member.group?.partitions ?? []));
    const forwarded = new Set(
      members.flatMap((member) => (member.streams ?? []).map((entry) => streamKey(streamNameOf(entry)))),
    );
    const wanted = desired.get(id);
    return {
      id,
      members: members.map((member) => member.serviceId),
      partitionCount,
      unassignedPartitions: Array.from({ length: partitionCount }, (_, i) => i).filter(
        (i) => !assigned.has(i),
      ),
      desiredStreams: Math.max(...members.map((member) => member.group?.desiredStreams ?? 0)),
      forwardedStreams: forwarded.size,
      ...(wanted === undefined
        ? {}
        : { notForwarded: wanted.filter((stream) => !forwarded.has(streamKey(stream))) }),
    };
  });
}

/** The `status --json` document. */
export function statusDocument(
  topic: string,
  instances: readonly ForwarderInstance[],
  nowMs: number,
  groups: readonly GroupSummary[] = [],
): unknown {
  return {
    topic,
    time: new Date(nowMs).toISOString(),
    instances: instances.map(({ lastSeenMs, ...instance }) => ({
      ...instance,
      lastSeen: new Date(lastSeenMs).toISOString(),
      secondsSinceLastSeen: Math.max(0, Math.round((nowMs - lastSeenMs) / 100) / 10),
    })),
    ...(groups.length === 0 ? {} : { groups }),
  };
}

/** The `status` text: one line per instance, then its streams as a table. */
export function statusText(
  topic: string,
  instances: readonly ForwarderInstance[],
  nowMs: number,
  sinceS: number,
  groups: readonly GroupSummary[] = [],
): string {
  if (instances.length === 0) return `No forwarder status on ${topic} in the last ${sinceS} s.\n`;
  return [...instances.map((instance) => instanceText(instance, nowMs)), ...groups.map(groupText)].join('\n');
}

function groupText(group: GroupSummary): string {
  const unassigned =
    group.unassignedPartitions.length === 0
      ? 'every partition assigned'
      : `partitions assigned to nobody: ${group.unassignedPartitions.join(', ')}`;
  const lines = [
    `Group ${group.id}: ${group.members.length} running member${group.members.length === 1 ? '' : 's'} ` +
      `(${group.members.join(', ')}), ${group.partitionCount} partitions, ${unassigned}; ` +
      `${group.forwardedStreams} of ${group.desiredStreams} streams forwarded`,
  ];
  const missing = group.notForwarded;
  if (missing === undefined) {
    if (group.forwardedStreams < group.desiredStreams)
      lines.push(`  ${group.desiredStreams - group.forwardedStreams} streams are not forwarded by anyone`);
  } else if (missing.length > 0) {
    lines.push(`  Not forwarded by anyone (${missing.length}):`);
    const rows = missing.map((stream) => [stream.pv, stream.protocol, stream.topic, stream.schema]);
    lines.push(formatTable(['PV', 'PROTOCOL', 'TOPIC', 'SCHEMA'], rows, '    ').trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

function instanceText(instance: ForwarderInstance, nowMs: number): string {
  const lastSeen = `${new Date(instance.lastSeenMs).toISOString()} (${age(nowMs - instance.lastSeenMs)} ago)`;
  const streams = instance.streams;
  const summary =
    `${instance.serviceId} on ${instance.hostName} (pid ${instance.processId}), ` +
    `${instance.softwareName} ${instance.softwareVersion}: ${instance.state}, last seen ${lastSeen}, ` +
    (streams === null
      ? instance.statusJsonError
      : `${streams.length} stream${streams.length === 1 ? '' : 's'}`) +
    (instance.group === undefined
      ? ''
      : `, group ${instance.group.id} partitions ${instance.group.partitions.join(', ') || 'none'}`) +
    (instance.spool === undefined ? '' : `, ${spoolText(instance.spool)}`);
  if (streams === null || streams.length === 0) return `${summary}\n`;
  const rows = streams.map((stream) => [
    cell(stream['channel_name']),
    cell(stream['protocol']),
    cell(stream['output_topic']),
    cell(stream['schema']),
    cell(stream['periodic']),
    cell(stream['connection']),
  ]);
  return `${summary}\n${formatTable(['PV', 'PROTOCOL', 'TOPIC', 'SCHEMA', 'PERIODIC', 'CONNECTION'], rows, '  ')}`;
}

function spoolText(spool: SpoolState): string {
  const waiting =
    spool.waiting === 0
      ? 'nothing waiting'
      : `${spool.waiting} messages waiting for Kafka, the oldest ${age(spool.oldestWaitingSeconds * 1000)} old`;
  const dropped = spool.dropped === 0 ? '' : `, ${spool.dropped} dropped (spool full or not writable)`;
  const failing = spool.writeError === undefined ? '' : `, CANNOT WRITE: ${spool.writeError}`;
  return `spool ${waiting}, ${spool.bytes} bytes${dropped}${failing}`;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A short duration: "4 s", "12 min", "3 h", "2 d". */
export function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 120 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
