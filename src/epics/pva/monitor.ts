/**
 * One MONITOR operation, without I/O (docs/protocols/pvaccess.md, "Monitors"). The INIT reply gives the
 * structure's type: a layout, and the store its values merge into. Each update is a partial value (a BitSet of
 * changed fields and their values) merged into that store. With pipelining the server sends at most `queueSize`
 * updates until the client acknowledges some; this client acknowledges half a window at a time.
 */
import { BitSet } from './bitset.js';
import { decodeFieldDesc, describeType, type TypeRegistry } from './introspection.js';
import type { MonitorOptions } from './messages.js';
import { MonitorSubcommand, StatusType } from './protocol.js';
import { decodeDelta, StructureLayout, StructureStore } from './structure.js';
import { isSuccess, type PvaStatus, PvaProtocolError, type WireReader } from './wire.js';

/** The server queue asked for when pipelining without a size of its own. */
const DEFAULT_PIPELINE_QUEUE = 4;
/** Distinct types whose compiled layouts are shared between channels. */
const MAX_CACHED_LAYOUTS = 512;

/** What a MONITOR response did. The operation's `store` holds the merged value. */
export type MonitorEvent =
  /** INIT accepted: the type is known, the store exists; the client now sends START. */
  | { readonly kind: 'started' }
  /** An update was merged into the store. */
  | { readonly kind: 'update' }
  /** The server ended the operation (an error status, or a final message, possibly with a last update). */
  | { readonly kind: 'ended'; readonly status: PvaStatus; readonly lastUpdate: boolean };

const STARTED: MonitorEvent = { kind: 'started' };
const UPDATE: MonitorEvent = { kind: 'update' };

/** Scratch BitSets for decoding deltas, reused by every operation (decoding never re-enters). */
const changedBits = new BitSet();
const overrunBits = new BitSet();

/**
 * Compiled layouts by the bytes of the type description that defined them. Identical descriptions that do not use
 * the connection's type cache decode identically, so thousands of channels of one record type share one layout.
 */
export class LayoutCache {
  private readonly layouts = new Map<string, StructureLayout>();

  /** The layout of the type at the reader (the rest of an INIT reply); a string says why there is none. */
  layoutAt(reader: WireReader, registry: TypeRegistry): StructureLayout | string {
    const key = reader.bytes.toString('latin1', reader.pos, reader.end);
    const cached = this.layouts.get(key);
    if (cached) {
      reader.pos = reader.end;
      return cached;
    }
    registry.used = false;
    const type = decodeFieldDesc(reader, registry);
    if (type === null) return 'the server sent no type';
    if (type.kind !== 'structure') return `the monitored type is not a structure: ${describeType(type)}`;
    const layout = new StructureLayout(type);
    if (!registry.used && reader.pos === reader.end && this.layouts.size < MAX_CACHED_LAYOUTS) {
      this.layouts.set(key, layout);
    }
    return layout;
  }
}

/** The request options as sent: pipelining gets a queue size of its own when none was given. */
export function monitorRequestOptions(options: MonitorOptions): MonitorOptions {
  return options.pipeline ? { ...options, queueSize: options.queueSize ?? DEFAULT_PIPELINE_QUEUE } : options;
}

export class MonitorOperation {
  /** The merged value; undefined until the INIT reply. */
  store: StructureStore | undefined;
  /** Fields the server reported as overrun (squashed into later values) in the last update. */
  lastOverruns = 0;
  private unacknowledged = 0;
  /** Acknowledge after this many updates; 0 without pipelining. */
  private readonly ackEvery: number;

  constructor(
    readonly ioid: number,
    readonly options: MonitorOptions,
    private readonly layouts: LayoutCache,
  ) {
    this.ackEvery = options.pipeline
      ? Math.max(1, Math.floor((options.queueSize ?? DEFAULT_PIPELINE_QUEUE) / 2))
      : 0;
  }

  /**
   * Applies a MONITOR response (the reader positioned after the ioid and sub-command). Throws PvaProtocolError
   * when the server breaks the protocol.
   */
  receive(subcommand: number, reader: WireReader, registry: TypeRegistry): MonitorEvent {
    if (subcommand & MonitorSubcommand.init) return this.init(reader, registry);
    if (subcommand & MonitorSubcommand.final) {
      const status = reader.status();
      const lastUpdate = reader.remaining > 0 && this.store !== undefined;
      if (lastUpdate) this.merge(reader, registry);
      return { kind: 'ended', status, lastUpdate };
    }
    if (!this.store) throw new PvaProtocolError(`monitor update before its INIT reply (ioid ${this.ioid})`);
    this.merge(reader, registry);
    if (this.ackEvery > 0) this.unacknowledged++;
    return UPDATE;
  }

  /** With pipelining: how many updates to acknowledge now (0: not yet). */
  takeAcknowledgement(): number {
    if (this.ackEvery === 0 || this.unacknowledged < this.ackEvery) return 0;
    const count = this.unacknowledged;
    this.unacknowledged = 0;
    return count;
  }

  private init(reader: WireReader, registry: TypeRegistry): MonitorEvent {
    const status = reader.status();
    if (!isSuccess(status)) return { kind: 'ended', status, lastUpdate: false };
    const layout = this.layouts.layoutAt(reader, registry);
    if (typeof layout === 'string') {
      return {
        kind: 'ended',
        status: { type: StatusType.error, message: layout, callTree: '' },
        lastUpdate: false,
      };
    }
    this.store = new StructureStore(layout);
    return STARTED;
  }

  private merge(reader: WireReader, registry: TypeRegistry): void {
    const store = this.store as StructureStore;
    decodeDelta(reader, store, registry, changedBits, overrunBits);
    this.lastOverruns = store.lastOverrunCount;
  }
}
