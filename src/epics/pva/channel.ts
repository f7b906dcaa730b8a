/**
 * One channel (one PV name) and the subscriptions every listener of that name shares: one MONITOR of the whole
 * structure (pvRequest `field()`).
 *
 * States: searching → connecting (search answered, CREATE_CHANNEL asked for on the server's circuit) → connected
 * (channel created; its monitor INIT, START, updates) → closed. Circuit loss or a server-side DESTROY_CHANNEL go
 * back to searching; a refused CREATE_CHANNEL too, after the longest search back-off. A monitor the server ends or
 * refuses is asked for again on the same channel after a growing delay. "connected" is published with the first
 * update of each monitor, so a listener never sees a stale value after a reconnect.
 */
import type { RateLimitedLog } from '../../logging/rate-limited.js';
import type {
  ConnectionEvent,
  ConnectionState,
  PvUpdate,
  Subscription,
  SubscriptionListener,
} from '../../model/update.js';
import { type SubscriberOwner, Subscribers } from '../common/subscribers.js';
import type { Circuit, CircuitChannel } from './circuit.js';
import type { StructureDesc } from './introspection.js';
import type { MonitorOptions } from './messages.js';
import { type LayoutCache, MonitorOperation } from './monitor.js';
import { NormativeMapper } from './normative.js';
import type { PvStructureData } from './values.js';
import type { StructureStore } from './structure.js';
import { describeStatus, isSuccess, type PvaStatus } from './wire.js';

export type ChannelState = 'searching' | 'connecting' | 'connected' | 'closed';

/** Counters a metrics layer can read (each becomes a metric, in this order); all only ever grow. */
export interface PvaCounters {
  circuitsOpened: number;
  circuitsClosed: number;
  /** Circuits closed because the server sent something undecodable or out of protocol. */
  protocolErrors: number;
  /** Circuits closed because the server went silent. */
  idleTimeouts: number;
  /** Monitor updates received and merged (one per server message, whatever the number of subscribers). */
  updatesReceived: number;
  /** Updates handed to update listeners (counted per listener). */
  updatesDelivered: number;
  /** Fields the server reported as overrun: values it squashed into later ones. */
  coalescedUpdates: number;
  /** Updates whose value the update model cannot express (see the log for the type). */
  unsupportedUpdates: number;
  /** Exceptions thrown by listeners (logged and otherwise ignored). */
  listenerErrors: number;
  searchDatagramsSent: number;
  searchResponses: number;
  /** Datagrams on the search socket or where beacons are listened for that could not be decoded. */
  badDatagrams: number;
  /** Beacons of a new or restarted server (each searches the waiting channels again, at most once a second). */
  beaconAnomalies: number;
  /** Monitor INIT errors and error finals from servers. */
  remoteErrors: number;
  bytesReceived: number;
}

export function newCounters(): PvaCounters {
  return {
    circuitsOpened: 0,
    circuitsClosed: 0,
    protocolErrors: 0,
    idleTimeouts: 0,
    updatesReceived: 0,
    updatesDelivered: 0,
    coalescedUpdates: 0,
    unsupportedUpdates: 0,
    listenerErrors: 0,
    searchDatagramsSent: 0,
    searchResponses: 0,
    badDatagrams: 0,
    beaconAnomalies: 0,
    remoteErrors: 0,
    bytesReceived: 0,
  };
}

/** The merged structure of a PV after an update, for consumers that need more than the update model. */
export interface StructureUpdate {
  readonly type: StructureDesc;
  readonly value: PvStructureData;
  /** Dotted paths of the fields this update changed ("" = the whole structure). */
  readonly changed: readonly string[];
}

export interface StructureListener {
  onStructure(update: StructureUpdate): void;
  onConnection(event: ConnectionEvent): void;
}

/** What a channel needs from the client that owns it. */
export interface ChannelHost {
  /** Per-channel messages: thousands can come at once (an IOC refusing every monitor), so they are limited. */
  readonly log: RateLimitedLog;
  readonly counters: PvaCounters;
  readonly monitorOptions: MonitorOptions;
  readonly layouts: LayoutCache;
  /** A fresh request id. */
  nextIoid(): number;
  /** Puts the channel into the search schedule's next initial batch. */
  startSearch(channel: PvaChannel): void;
  /** Puts the channel at the far end of the search schedule (its server refused it). */
  deferSearch(channel: PvaChannel): void;
  stopSearch(channel: PvaChannel): void;
  /** Runs `callback` after `delayMs`; the returned function cancels it. */
  startTimer(delayMs: number, callback: () => void): () => void;
  /** The last listener left: the client forgets the channel. */
  forget(channel: PvaChannel): void;
}

/** Monitor retries after an error or final: 1 s, doubling up to this. */
const MAX_MONITOR_RETRY_MS = 30_000;

const deliverUpdate = (listener: SubscriptionListener, update: PvUpdate): void => listener.onUpdate(update);
const deliverStructure = (listener: StructureListener, update: StructureUpdate): void =>
  listener.onStructure(update);

export class PvaChannel implements CircuitChannel, SubscriberOwner {
  state: ChannelState = 'searching';
  /** Server instance of the search reply that was followed. */
  serverGuid = '';
  /** Whether a second server's reply for this name was reported already. */
  warnedDuplicate = false;
  private circuit: Circuit | undefined;
  private sid: number | undefined;
  private monitor: MonitorOperation | undefined;
  private mapper: NormativeMapper | undefined;
  private receivedUpdate = false;
  private monitorRetries = 0;
  private cancelRetry: (() => void) | undefined;
  private warnedUnsupported = false;
  private readonly updates = new Subscribers<SubscriptionListener, PvUpdate>(this, deliverUpdate);
  /** Only structure consumers subscribe this way, so the list is made on first use (one object less per channel). */
  private structures: Subscribers<StructureListener, StructureUpdate> | undefined;

  constructor(
    readonly name: string,
    readonly cid: number,
    private readonly host: ChannelHost,
  ) {
    host.startSearch(this);
  }

  get isConnected(): boolean {
    return this.updates.connection === 'connected';
  }

  /** Server address of the circuit carrying this channel, if any. */
  get serverAddress(): string | undefined {
    return this.circuit?.key;
  }

  addListener(listener: SubscriptionListener): Subscription {
    return this.updates.add(listener);
  }

  /** Subscribes to the merged structure itself (any type, including what the update model cannot express). */
  addStructureListener(listener: StructureListener): Subscription {
    if (!this.structures) {
      this.structures = new Subscribers(this, deliverStructure, () => this.wholeStructure());
      const state = this.updates.connection;
      if (state) this.structures.publishConnection(state, this.updates.connectionDetail);
    }
    return this.structures.add(listener);
  }

  lastCancelled(): void {
    if (this.updates.size + (this.structures?.size ?? 0) === 0) this.close();
  }

  listenerFailed(error: unknown): void {
    this.host.counters.listenerErrors++;
    this.host.log.log(`Subscriber of PV "${this.name}" threw: ${(error as Error)?.message ?? String(error)}`);
  }

  /** Stops everything for this name: ends the monitor and the channel on the server, and forgets the channel. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.updates.clear();
    this.structures?.clear();
    this.host.stopSearch(this);
    this.detach(true);
    this.host.forget(this);
  }

  /** The search was answered: ask the server for the channel on its circuit. */
  connectVia(circuit: Circuit, serverGuid: string): void {
    this.state = 'connecting';
    this.circuit = circuit;
    this.serverGuid = serverGuid;
    circuit.addChannel(this);
  }

  onCreated(sid: number): void {
    if (this.state !== 'connecting') return;
    this.state = 'connected';
    this.sid = sid;
    this.startMonitor();
  }

  onCreateFailed(status: PvaStatus): void {
    if (this.state !== 'connecting') return;
    this.host.log.log(
      `PVA server ${this.circuit?.key} refused channel "${this.name}": ${describeStatus(status)}`,
    );
    this.detach(false);
    this.state = 'searching';
    this.host.deferSearch(this);
  }

  onDestroyed(): void {
    const server = this.circuit?.key;
    this.host.log.log(`PVA server ${server} destroyed channel "${this.name}"`, undefined, 'info');
    this.lose('destroyed', `server ${server} destroyed the channel`);
  }

  onCircuitLost(reason: string): void {
    const server = this.circuit?.key;
    this.circuit = undefined; // the circuit is gone: nothing to tell it
    this.lose('disconnected', `server ${server}: ${reason}`);
  }

  onMonitorStarted(monitor: MonitorOperation): void {
    if (monitor !== this.monitor) return;
    this.mapper = new NormativeMapper((monitor.store as StructureStore).layout);
    if (this.mapper.unsupported && this.updates.size > 0 && !this.warnedUnsupported) {
      this.warnedUnsupported = true;
      this.host.log.log(`PV "${this.name}" cannot be forwarded: ${this.mapper.unsupported}`);
    }
  }

  onMonitorUpdate(monitor: MonitorOperation): void {
    if (monitor !== this.monitor) return;
    const store = monitor.store as StructureStore;
    const counters = this.host.counters;
    counters.updatesReceived++;
    counters.coalescedUpdates += monitor.lastOverruns;
    if (!this.receivedUpdate) {
      this.receivedUpdate = true;
      this.monitorRetries = 0;
      const unsupported = this.mapper?.unsupported;
      this.publishConnection(
        'connected',
        this.circuit?.key,
        unsupported === undefined ? undefined : `cannot be forwarded: ${unsupported}`,
      );
    }
    if (this.updates.size > 0) {
      const update = (this.mapper as NormativeMapper).map(store);
      if (update) counters.updatesDelivered += this.updates.publish(update);
      else {
        counters.unsupportedUpdates++;
      }
    }
    if (this.structures && this.structures.size > 0) this.structures.publish(structureUpdate(store, false));
  }

  onMonitorEnded(monitor: MonitorOperation, status: PvaStatus): void {
    if (monitor !== this.monitor) return;
    const detail = describeStatus(status);
    if (isSuccess(status)) {
      this.host.log.log(
        `PVA monitor of "${this.name}" finished by the server (${detail}); will retry`,
        undefined,
        'info',
      );
      this.publishConnection('finished', detail);
    } else {
      this.host.counters.remoteErrors++;
      if (this.updates.connection !== 'remote_error') {
        this.host.log.log(`PVA monitor of "${this.name}" failed: ${detail}; will retry`);
      }
      this.publishConnection('remote_error', detail);
    }
    this.retryMonitor();
  }

  private startMonitor(): void {
    const { circuit, sid } = this;
    if (this.state !== 'connected' || !circuit || sid === undefined) return;
    this.monitor = new MonitorOperation(this.host.nextIoid(), this.host.monitorOptions, this.host.layouts);
    this.mapper = undefined;
    this.receivedUpdate = false;
    circuit.startMonitor(this, sid, this.monitor);
  }

  /** The circuit has forgotten the monitor; ask for a new one after a delay that grows with each failure. */
  private retryMonitor(): void {
    this.monitor = undefined;
    const delay = Math.min(MAX_MONITOR_RETRY_MS, 1000 * 2 ** this.monitorRetries);
    this.monitorRetries++;
    this.cancelRetry?.();
    this.cancelRetry = this.host.startTimer(delay, () => {
      this.cancelRetry = undefined;
      this.startMonitor();
    });
  }

  /** Back to searching after losing the server side of the channel. */
  private lose(state: ConnectionState, detail: string): void {
    this.detach(false);
    if (this.state === 'closed') return;
    this.updates.publishLoss(state, detail);
    this.structures?.publishLoss(state, detail);
    this.state = 'searching';
    this.host.startSearch(this);
  }

  /** `unsupported` concerns the mapped updates only: structure subscribers receive every type. */
  private publishConnection(state: ConnectionState, detail: string | undefined, unsupported?: string): void {
    this.updates.publishConnection(state, detail, unsupported);
    this.structures?.publishConnection(state, detail);
  }

  /**
   * Leaves the current circuit. With `tellServer`, a circuit still up hears of it (DESTROY_REQUEST of the monitor,
   * DESTROY_CHANNEL); otherwise the server has already dropped the channel, or the circuit is gone.
   */
  private detach(tellServer: boolean): void {
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const { circuit, monitor, sid } = this;
    this.circuit = undefined;
    this.monitor = undefined;
    this.mapper = undefined;
    this.sid = undefined;
    if (!circuit) return;
    if (monitor) circuit.stopMonitor(monitor, tellServer);
    circuit.removeChannel(this, sid, tellServer);
  }

  private wholeStructure(): StructureUpdate | undefined {
    const store = this.monitor?.store;
    return store && structureUpdate(store, true);
  }
}

function structureUpdate(store: StructureStore, whole: boolean): StructureUpdate {
  const changed: string[] = [];
  if (whole) {
    changed.push('');
  } else {
    const nodes = store.layout.nodes;
    for (let i = 0; i < nodes.length; i++) {
      if (store.changedAt[i] !== store.sequence) continue;
      changed.push((nodes[i] as { path: string }).path);
      // A changed structure implies its subtree.
      i = (nodes[i] as { end: number }).end - 1;
    }
  }
  return { type: store.layout.type, value: store.toData() as PvStructureData, changed };
}
