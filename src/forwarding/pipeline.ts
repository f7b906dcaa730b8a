/**
 * One stream's pipeline: EPICS updates and connection events in, serialised messages out. The main schema's
 * messages, al00 alarms (for every main schema but f142) and ep01 connection messages, as the schema's row in
 * OUTPUT_SCHEMAS says, each have their own timestamp filter and, for periodic streams, their own cached copy for
 * re-sending. Unlike the reference, a failing serialiser never suppresses the others.
 */
import type { ConnectionEvent, ConnectionState, PvUpdate, SubscriptionListener } from '../model/update.js';
import type { Logger } from '../logging/logger.js';
import { RateLimitedLog } from '../logging/rate-limited.js';
import {
  Al00Serialiser,
  Ep01Serialiser,
  keepable,
  OUTPUT_SCHEMAS,
  UnsupportedValueError,
  type ValueSerialiser,
} from '../schemas/index.js';
import { describeStream, type StreamSpec } from '../model/stream.js';
import type { MessageSink } from './sink.js';
import { timestampVerdict, VERDICT_EXPLANATION } from './timestamp-filter.js';

const NS_PER_MS = 1_000_000n;

/** Why updates or messages of a stream were not forwarded. */
export interface RejectionCounts {
  /** The timestamp filter refused the message. */
  timestamp: number;
  /** The schema cannot carry the value (a string on f144, a table on f142, ...). */
  unsupported: number;
  /** Anything else a serialiser threw. */
  error: number;
}

/** Per-stream figures and state, for status reports, the status page and metrics. */
export interface StreamCounters {
  /** Updates received from EPICS. */
  updates: number;
  /** Messages handed to Kafka, re-sends included. */
  messages: number;
  resends: number;
  rejected: RejectionCounts;
  /** Wall-clock ms of the last update received, 0 before the first. */
  lastUpdateMs: number;
  connection: ConnectionState | 'never_connected';
  /** Wall-clock ms the connection state last changed; for a stream never connected, when it was added. */
  connectionSinceMs: number;
  /** The server of the current or last connection, as the EPICS client names it; undefined before the first. */
  server: string | undefined;
  /** Why the stream is not connected, when the EPICS client said (undefined while connected). */
  connectionDetail: string | undefined;
  /** The last update received (the EPICS client holds it anyway, for late subscribers): value and alarm. */
  lastUpdate: PvUpdate | undefined;
  /** Why the latest update for the main schema was not forwarded; undefined once one is. */
  rejecting: string | undefined;
}

/** Takes one latency figure in seconds (a metrics histogram). */
export interface LatencyObserver {
  observe(seconds: number): void;
}

export interface PipelineContext {
  readonly sink: MessageSink;
  readonly logger: Logger;
  /** Wall clock in ms; tests substitute their own. */
  readonly now: () => number;
  /** Given the age of each value message (now − EPICS time) as it is handed to Kafka; metrics off: absent. */
  readonly produceLatency?: LatencyObserver;
  /**
   * Keep each kind's latest message also while the stream is not periodic, so that making it periodic later (a
   * second ADD) re-sends the current state at the next tick, as a new periodic stream would. Set when
   * the forwarder re-sends at all (--pv-update-period).
   */
  readonly retainLatest?: boolean;
}

/**
 * One kind of message of a stream: timestamp filter, Kafka record, cache for periodic re-sends. The filter's state
 * is a field here rather than an object of its own: a stream has up to three kinds, and 10,000 streams many more.
 */
abstract class MessageKind {
  private lastAcceptedNs = -1n;
  private cached: Uint8Array | undefined;
  /** The stream's main schema, whose rejections make the stream "rejecting". */
  isMain = false;

  constructor(
    protected readonly pipeline: StreamPipeline,
    private readonly kind: string,
    private readonly latency?: LatencyObserver,
  ) {}

  protected publish(payload: Uint8Array, timestampNs: bigint): void {
    const pipeline = this.pipeline;
    const nowMs = pipeline.context.now();
    const verdict = timestampVerdict(timestampNs, this.lastAcceptedNs, nowMs);
    if (verdict !== 'accepted') {
      pipeline.counters.rejected.timestamp++;
      if (this.isMain) pipeline.counters.rejecting = VERDICT_EXPLANATION[verdict];
      pipeline.logProblem(
        `Rejecting ${this.kind} message on ${pipeline.spec.pvName} as ${VERDICT_EXPLANATION[verdict]} ` +
          `(timestamp ${timestampNs} ns)`,
        nowMs,
      );
      return;
    }
    if (this.isMain) pipeline.counters.rejecting = undefined;
    this.lastAcceptedNs = timestampNs;
    const timestampMs = Number(timestampNs / NS_PER_MS);
    pipeline.emit(payload, timestampMs);
    // The clock was read for the filter just now; a clock behind the IOC's counts as no delay.
    this.latency?.observe(nowMs > timestampMs ? (nowMs - timestampMs) / 1000 : 0);
    if (pipeline.periodic || pipeline.context.retainLatest) this.cached = keepable(payload);
  }

  /** Re-sends the cached message unchanged, with the wall clock as Kafka timestamp. */
  resend(nowMs: number): void {
    if (this.cached === undefined) return;
    this.pipeline.emit(this.cached, nowMs);
    this.pipeline.counters.resends++;
  }

  forget(): void {
    this.cached = undefined;
  }
}

/** al00: sent when severity or message differs from the last one sent; the first update always sends one. */
class AlarmMessages extends MessageKind {
  private readonly serialiser: Al00Serialiser;
  private lastSeverity = -1;
  private lastMessage = '';

  constructor(pipeline: StreamPipeline) {
    super(pipeline, 'al00');
    this.serialiser = new Al00Serialiser(pipeline.spec.pvName);
  }

  onUpdate(update: PvUpdate): void {
    const { severity, message } = update.alarm;
    if (severity === this.lastSeverity && message === this.lastMessage) return;
    this.lastSeverity = severity;
    this.lastMessage = message;
    this.publish(this.serialiser.serialise(update.timestampNs, update.alarm), update.timestampNs);
  }
}

/**
 * ep01: sent when the connection state changes, never before the first connection. Every state carries the
 * local time of the event, so a reconnect is never ordered before the disconnect it follows (the reference
 * stamps a PVA reconnect with the value's EPICS time and its filter can then drop it).
 */
class ConnectionMessages extends MessageKind {
  private readonly serialiser: Ep01Serialiser;
  private state: ConnectionState | undefined;

  constructor(pipeline: StreamPipeline) {
    super(pipeline, 'ep01');
    this.serialiser = new Ep01Serialiser(pipeline.spec.pvName);
  }

  onConnection(event: ConnectionEvent): void {
    if (event.state === this.state) return;
    if (this.state === undefined && event.state !== 'connected') return;
    this.state = event.state;
    this.publish(this.serialiser.serialise(event.timestampNs, event.state), event.timestampNs);
  }
}

/** The main schema's value messages. */
class ValueMessages extends MessageKind {
  constructor(
    pipeline: StreamPipeline,
    private readonly serialiser: ValueSerialiser,
  ) {
    super(pipeline, pipeline.spec.schema, pipeline.context.produceLatency);
  }

  onUpdate(update: PvUpdate): void {
    const message = this.serialiser(update);
    if (message !== null) this.publish(message.payload, message.timestampNs);
  }
}

type UpdateKind = AlarmMessages | ValueMessages;
const isUpdateKind = (kind: unknown): kind is UpdateKind =>
  kind instanceof AlarmMessages || kind instanceof ValueMessages;

/** The counters of a stream before its first update; `addedMs`: when it was added. */
export function newStreamCounters(addedMs = 0): StreamCounters {
  return {
    updates: 0,
    messages: 0,
    resends: 0,
    rejected: { timestamp: 0, unsupported: 0, error: 0 },
    lastUpdateMs: 0,
    connection: 'never_connected',
    connectionSinceMs: addedMs,
    server: undefined,
    connectionDetail: undefined,
    lastUpdate: undefined,
    rejecting: undefined,
  };
}

export class StreamPipeline implements SubscriptionListener {
  readonly counters: StreamCounters;
  private readonly key: Buffer;
  private readonly updateKinds: readonly UpdateKind[];
  private readonly connectionKinds: readonly ConnectionMessages[];
  /** Created at the first problem: most streams never have one. */
  private problemLog: RateLimitedLog | undefined;
  private periodicFlag: boolean;

  constructor(
    readonly spec: StreamSpec,
    readonly context: PipelineContext,
  ) {
    this.counters = newStreamCounters(context.now());
    this.key = Buffer.from(spec.pvName);
    this.periodicFlag = spec.periodic;
    const { main, alarms } = OUTPUT_SCHEMAS[spec.schema];
    const kinds = [
      main === 'al00'
        ? new AlarmMessages(this)
        : main === 'ep01'
          ? new ConnectionMessages(this)
          : main === 'none'
            ? undefined
            : new ValueMessages(this, main(spec)),
      alarms ? new AlarmMessages(this) : undefined,
      new ConnectionMessages(this),
    ];
    if (kinds[0] !== undefined) kinds[0].isMain = true;
    // Copied to their exact size: an array filled by push or filter has room for 17 (~150 bytes per stream).
    this.updateKinds = kinds.filter(isUpdateKind).slice();
    this.connectionKinds = kinds.filter((kind) => kind instanceof ConnectionMessages).slice();
  }

  get periodic(): boolean {
    return this.periodicFlag;
  }

  /** Turns re-sending on or off; turning it off drops the cached messages unless they are retained anyway. */
  set periodic(periodic: boolean) {
    this.periodicFlag = periodic;
    if (periodic || this.context.retainLatest) return;
    for (const kind of this.updateKinds) kind.forget();
    for (const kind of this.connectionKinds) kind.forget();
  }

  onUpdate(update: PvUpdate): void {
    this.counters.updates++;
    this.counters.lastUpdateMs = this.context.now();
    this.counters.lastUpdate = update;
    for (const kind of this.updateKinds) {
      try {
        kind.onUpdate(update);
      } catch (error) {
        this.reportFailure(error, kind.isMain);
      }
    }
  }

  onConnection(event: ConnectionEvent): void {
    const counters = this.counters;
    if (counters.connection !== event.state) counters.connectionSinceMs = this.context.now();
    counters.connection = event.state;
    if (event.state === 'connected') {
      counters.server = event.detail;
      counters.connectionDetail = undefined;
      // A type the EPICS client cannot express: no update will come for a main schema made from updates.
      if (this.updateKinds[0]?.isMain) counters.rejecting = event.unsupported;
    } else counters.connectionDetail = event.detail;
    for (const kind of this.connectionKinds) {
      try {
        kind.onConnection(event);
      } catch (error) {
        this.reportFailure(error, kind.isMain);
      }
    }
  }

  /** Re-sends every cached message, if the stream is periodic. */
  resend(nowMs: number): void {
    if (!this.periodicFlag) return;
    for (const kind of this.updateKinds) kind.resend(nowMs);
    for (const kind of this.connectionKinds) kind.resend(nowMs);
  }

  emit(payload: Uint8Array, timestampMs: number): void {
    this.counters.messages++;
    this.context.sink.send(this.spec.topic, this.key, payload, timestampMs);
  }

  /** Logs a problem of this stream, rate-limited. */
  logProblem(message: string, nowMs: number): void {
    this.problemLog ??= new RateLimitedLog(this.context.logger, 'error');
    this.problemLog.log(message, nowMs);
  }

  private reportFailure(error: unknown, main: boolean): void {
    const unsupported = error instanceof UnsupportedValueError;
    if (unsupported) this.counters.rejected.unsupported++;
    else this.counters.rejected.error++;
    const reason = error instanceof Error ? error.message : String(error);
    if (main) this.counters.rejecting = reason;
    this.logProblem(
      `Got error when handling ${this.spec.protocol.toUpperCase()} update of stream ${describeStream(this.spec)}: ` +
        reason,
      this.context.now(),
    );
  }
}
