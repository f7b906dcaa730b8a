/**
 * What `status` shows: the newest x5f2 message of each forwarder instance read from a status topic, as a table
 * or as JSON. The stream entries of the status JSON are shown as sent: the reference's keys (channel_name,
 * protocol, output_topic, schema) and this forwarder's additions (periodic, connection) when present.
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

function parseStatusJson(text: string): Pick<ForwarderInstance, 'streams' | 'statusJsonError'> {
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
  return { streams: streams as Record<string, unknown>[] };
}

/** The `status --json` document. */
export function statusDocument(
  topic: string,
  instances: readonly ForwarderInstance[],
  nowMs: number,
): unknown {
  return {
    topic,
    time: new Date(nowMs).toISOString(),
    instances: instances.map(({ lastSeenMs, ...instance }) => ({
      ...instance,
      lastSeen: new Date(lastSeenMs).toISOString(),
      secondsSinceLastSeen: Math.max(0, Math.round((nowMs - lastSeenMs) / 100) / 10),
    })),
  };
}

/** The `status` text: one line per instance, then its streams as a table. */
export function statusText(
  topic: string,
  instances: readonly ForwarderInstance[],
  nowMs: number,
  sinceS: number,
): string {
  if (instances.length === 0) return `No forwarder status on ${topic} in the last ${sinceS} s.\n`;
  return instances.map((instance) => instanceText(instance, nowMs)).join('\n');
}

function instanceText(instance: ForwarderInstance, nowMs: number): string {
  const lastSeen = `${new Date(instance.lastSeenMs).toISOString()} (${age(nowMs - instance.lastSeenMs)} ago)`;
  const streams = instance.streams;
  const summary =
    `${instance.serviceId} on ${instance.hostName} (pid ${instance.processId}), ` +
    `${instance.softwareName} ${instance.softwareVersion}: ${instance.state}, last seen ${lastSeen}, ` +
    (streams === null
      ? instance.statusJsonError
      : `${streams.length} stream${streams.length === 1 ? '' : 's'}`);
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
