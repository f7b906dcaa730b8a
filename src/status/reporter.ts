/**
 * x5f2 status messages: every status interval and right after each valid command. The JSON keeps the reference's
 * `streams` entries (channel_name, protocol, output_topic, schema) so existing readers work, and adds each stream's
 * periodic flag and connection state.
 */
import type { StreamStatus } from '../forwarding/forwarder.js';
import { PROTOCOL_LABEL } from '../model/protocol.js';
import type { MessageSink } from '../forwarding/sink.js';
import { serialiseX5f2 } from '../schemas/index.js';

export interface ServiceIdentity {
  readonly softwareName: string;
  readonly softwareVersion: string;
  readonly serviceId: string;
  readonly hostName: string;
  readonly processId: number;
}

/** A forwarding group member's part in its group, added to its status as `group`. */
export interface GroupReport {
  readonly id: string;
  /** The coordination-topic partitions assigned to this member. */
  readonly partitions: readonly number[];
  readonly partitionCount: number;
  /** Every stream the group is asked to forward; this member's status lists only the ones it forwards. */
  readonly desiredStreams: number;
  /** Where the whole stream set is stored, so that a reader can tell which streams nobody forwards. */
  readonly storageTopic?: string;
}

/** A forwarder with a disk spool (--spool-dir) adds it to its status as `spool`. */
export interface SpoolReport {
  readonly bytes: number;
  /** Messages waiting to be handed to Kafka. */
  readonly waiting: number;
  /** Age of the oldest waiting message, s (0 when none waits). */
  readonly oldestWaitingSeconds: number;
  /** Messages dropped because the spool was full or could not write. */
  readonly dropped: number;
  /** Only while writing to the spool directory fails: the error. */
  readonly writeError?: string;
}

/**
 * The status JSON, laid out as Python's json.dumps does (", " and ": "), as the reference sends it; a member of a
 * forwarding group adds `group`, a forwarder with a spool `spool`.
 */
export function statusJson(
  streams: readonly StreamStatus[],
  group?: GroupReport,
  spool?: SpoolReport,
): string {
  const entries = streams.map(
    ({ spec, counters }) =>
      `{"channel_name": ${JSON.stringify(spec.pvName)}, "protocol": "${PROTOCOL_LABEL[spec.protocol]}", ` +
      `"output_topic": ${JSON.stringify(spec.topic)}, "schema": ${JSON.stringify(spec.schema)}, ` +
      `"periodic": ${spec.periodic}, "connection": "${counters.connection}"}`,
  );
  const groupPart = group === undefined ? '' : `, "group": ${groupJson(group)}`;
  const spoolPart =
    spool === undefined
      ? ''
      : `, "spool": {"bytes": ${spool.bytes}, "waiting": ${spool.waiting}, ` +
        `"oldest_waiting_s": ${spool.oldestWaitingSeconds}, "dropped": ${spool.dropped}` +
        `${spool.writeError === undefined ? '' : `, "write_error": ${JSON.stringify(spool.writeError)}`}}`;
  return `{"streams": [${entries.join(', ')}]${groupPart}${spoolPart}}`;
}

function groupJson(group: GroupReport): string {
  const storage =
    group.storageTopic === undefined ? '' : `, "storage_topic": ${JSON.stringify(group.storageTopic)}`;
  return (
    `{"id": ${JSON.stringify(group.id)}, "partitions": [${group.partitions.join(', ')}], ` +
    `"partition_count": ${group.partitionCount}, "desired_streams": ${group.desiredStreams}${storage}}`
  );
}

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: MessageSink,
    private readonly topic: string,
    private readonly identity: ServiceIdentity,
    private readonly intervalMs: number,
    private readonly streams: () => readonly StreamStatus[],
    private readonly group?: () => GroupReport | undefined,
    private readonly spool?: () => SpoolReport | undefined,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.report(), this.intervalMs);
  }

  report(): void {
    const payload = serialiseX5f2({
      ...this.identity,
      updateIntervalMs: this.intervalMs,
      statusJson: statusJson(this.streams(), this.group?.(), this.spool?.()),
    });
    this.sink.send(this.topic, null, payload, Date.now());
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
