/**
 * One channel (one PV name) and the subscriptions every listener of that name shares.
 *
 * States: searching → connecting (search answered, CREATE_CHAN sent) → connected (CREATE_CHAN reply; EVENT_ADDs
 * sent) → closed. Circuit loss, SERVER_DISCONN or a refused CREATE_CHAN go back to searching with a new CID, so
 * a stale reply for an earlier incarnation can never hit the new one.
 *
 * Per channel two server subscriptions: DBR_CTRL_<native> (DBE_PROPERTY, one element) for units and enum
 * strings, and DBR_TIME_<native> (DBE_VALUE|DBE_ALARM|DBE_PROPERTY, native or dynamic count) for the values.
 * "connected" is published together with the first value once the metadata is known, so a listener always
 * sees connected → value, never a value without its units or enum strings.
 */
import type { Logger } from '../../logging/logger.js';
import type { PvUpdate, Subscription, SubscriptionListener } from '../../model/update.js';
import { type SubscriberOwner, Subscribers } from '../common/subscribers.js';
import type { Circuit, CircuitChannel } from './circuit.js';
import { AccessRight, DbrClass, EcaStatus, ecaStatusName, EventMask, NativeType } from './constants.js';
import { checkDbrPayload, dbrType, readMetadata } from './dbr.js';
import { CaProtocolError } from './messages.js';
import { channelMetadata, decodeTimeUpdate, NO_METADATA, type ChannelMetadata } from './updates.js';

export type ChannelState = 'searching' | 'connecting' | 'connected' | 'closed';

/** Counters a metrics layer can read; all only ever grow. */
export interface CaCounters {
  searchDatagramsSent: number;
  searchRepliesReceived: number;
  /** Search replies for a name already connected elsewhere (served twice: ECA_DBLCHNL). */
  duplicateSearchReplies: number;
  /** Malformed UDP datagrams (search replies, beacons), ignored. */
  badDatagrams: number;
  beaconAnomalies: number;
  circuitsOpened: number;
  circuitsClosed: number;
  /** Circuits closed because the server broke the protocol. */
  protocolErrors: number;
  /** Circuits closed after a long silence. */
  circuitsDroppedForSilence: number;
  bytesReceived: number;
  updatesDelivered: number;
  /** Subscription replies with a non-NORMAL ECA status (no value forwarded). */
  updatesWithErrorStatus: number;
  /** Exceptions thrown by listeners (caught, logged). */
  listenerErrors: number;
  channelsCreateFailed: number;
  serverDisconnects: number;
}

export function newCounters(): CaCounters {
  return {
    searchDatagramsSent: 0,
    searchRepliesReceived: 0,
    duplicateSearchReplies: 0,
    badDatagrams: 0,
    beaconAnomalies: 0,
    circuitsOpened: 0,
    circuitsClosed: 0,
    protocolErrors: 0,
    circuitsDroppedForSilence: 0,
    bytesReceived: 0,
    updatesDelivered: 0,
    updatesWithErrorStatus: 0,
    listenerErrors: 0,
    channelsCreateFailed: 0,
    serverDisconnects: 0,
  };
}

/** What a channel needs from the client that owns it. */
export interface ChannelHost {
  readonly logger: Logger;
  readonly counters: CaCounters;
  /** A fresh id (CIDs, subscription ids and IOIDs share one ever-increasing space). */
  nextId(): number;
  /** Puts the channel (under its current CID) into the search schedule after `delayMs`. */
  startSearch(channel: CaChannel, delayMs: number): void;
  /** Removes the channel's current CID from the search schedule and the CID table. */
  stopSearch(channel: CaChannel): void;
  /** Delay before searching again after a circuit loss (spreads reconnect storms). */
  reconnectDelayMs(): number;
  /** The last listener left: the client forgets the channel. */
  forget(channel: CaChannel): void;
}

interface ServerSubscription {
  readonly subId: number;
  readonly dbrType: number;
  readonly count: number;
}

const deliverUpdate = (listener: SubscriptionListener, update: PvUpdate): void => listener.onUpdate(update);

/** Delay before searching again after the server refused the channel: grows with repeated refusals. */
const CREATE_RETRY_BASE_MS = 1000;
const CREATE_RETRY_MAX_MS = 30_000;

export class CaChannel implements CircuitChannel, SubscriberOwner {
  cid: number;
  state: ChannelState = 'searching';
  nativeType: NativeType | undefined;
  nativeCount = 0;
  accessRights = 0;
  private circuit: Circuit | undefined;
  private sid: number | undefined;
  private timeSubscription: ServerSubscription | undefined;
  private ctrlSubscription: ServerSubscription | undefined;
  private metadata: ChannelMetadata = NO_METADATA;
  private metadataKnown = false;
  /** The first TIME payload, kept until the CTRL metadata arrives. */
  private heldValue: { count: number; payload: Buffer } | undefined;
  private refreshIoid: number | undefined;
  private createFailures = 0;
  private readonly subscribers = new Subscribers<SubscriptionListener, PvUpdate>(this, deliverUpdate);

  constructor(
    readonly name: string,
    private readonly host: ChannelHost,
  ) {
    this.cid = host.nextId();
    host.startSearch(this, 0);
  }

  get isConnected(): boolean {
    return this.subscribers.connection === 'connected';
  }

  /** Server address of the circuit carrying this channel, if any. */
  get serverAddress(): string | undefined {
    return this.circuit?.key;
  }

  addListener(listener: SubscriptionListener): Subscription {
    return this.subscribers.add(listener);
  }

  lastCancelled(): void {
    this.close();
  }

  listenerFailed(error: unknown): void {
    this.host.counters.listenerErrors++;
    this.host.logger.error('CA subscription listener threw', { pv: this.name, error: String(error) });
  }

  /** Stops everything for this name: cancels the server subscriptions and clears the channel. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.subscribers.clear();
    this.host.stopSearch(this);
    this.detach(true);
    this.host.forget(this);
  }

  /** The search was answered: ask the server for the channel on this circuit. */
  connectVia(circuit: Circuit): void {
    this.state = 'connecting';
    this.circuit = circuit;
    circuit.addChannel(this, this.name);
  }

  onAccessRights(rights: number): void {
    const hadRead = (this.accessRights & AccessRight.READ) !== 0;
    this.accessRights = rights;
    if (this.state === 'connected' && hadRead && (rights & AccessRight.READ) === 0) {
      this.host.logger.warn('CA channel lost read access', { pv: this.name });
    }
  }

  onCreated(sid: number, nativeType: NativeType, nativeCount: number): void {
    const circuit = this.circuit;
    if (this.state !== 'connecting' || !circuit) return;
    this.state = 'connected';
    this.sid = sid;
    this.nativeType = nativeType;
    this.nativeCount = nativeCount;
    this.createFailures = 0;
    this.metadataKnown = nativeType === NativeType.STRING; // CTRL_STRING carries nothing beyond STS
    this.heldValue = undefined;
    if (!this.metadataKnown) {
      this.ctrlSubscription = {
        subId: this.host.nextId(),
        dbrType: dbrType(DbrClass.CTRL, nativeType),
        count: 1,
      };
      this.subscribeOn(circuit, sid, this.ctrlSubscription, EventMask.PROPERTY);
    }
    const count = nativeCount === 1 ? 1 : circuit.supportsDynamicCount ? 0 : nativeCount;
    this.timeSubscription = { subId: this.host.nextId(), dbrType: dbrType(DbrClass.TIME, nativeType), count };
    this.subscribeOn(
      circuit,
      sid,
      this.timeSubscription,
      EventMask.VALUE | EventMask.ALARM | EventMask.PROPERTY,
    );
  }

  private subscribeOn(circuit: Circuit, sid: number, subscription: ServerSubscription, mask: number): void {
    circuit.subscribe(this, sid, subscription.subId, subscription.dbrType, subscription.count, mask);
  }

  onCreateFailed(reason: string): void {
    if (this.state !== 'connecting') return;
    this.host.counters.channelsCreateFailed++;
    this.createFailures++;
    this.host.logger.warn('CA server refused to create channel', {
      pv: this.name,
      server: this.circuit?.key,
      reason,
    });
    const delay = Math.min(CREATE_RETRY_BASE_MS * 2 ** (this.createFailures - 1), CREATE_RETRY_MAX_MS);
    this.restartSearch(delay, reason, false);
  }

  onServerDisconnect(): void {
    if (this.state === 'closed') return;
    this.host.counters.serverDisconnects++;
    this.restartSearch(this.host.reconnectDelayMs(), 'the server disconnected the channel', true);
  }

  onCircuitLost(reason: string): void {
    if (this.state === 'closed') return;
    this.circuit = undefined; // the circuit is gone: nothing to cancel or clear on it
    this.restartSearch(this.host.reconnectDelayMs(), reason, false);
  }

  onResponsiveChange(responsive: boolean): void {
    if (this.state !== 'connected' || !this.circuit || this.sid === undefined) return;
    if (!responsive) {
      this.announceDisconnected(`server ${this.circuit.key} is not responding`);
      return;
    }
    // Values may have been missed: fetch the current one; it announces "connected" again.
    const time = this.timeSubscription;
    if (!time) return;
    this.refreshIoid = this.host.nextId();
    this.circuit.read(this, this.sid, this.refreshIoid, time.dbrType, time.count);
  }

  onEventData(subId: number, type: number, count: number, status: number, payload: Buffer): void {
    if (subId === this.timeSubscription?.subId)
      this.onValue(this.timeSubscription, type, count, status, payload);
    else if (subId === this.ctrlSubscription?.subId)
      this.onMetadata(this.ctrlSubscription, type, status, payload);
  }

  onReadData(ioid: number, type: number, count: number, status: number, payload: Buffer): void {
    if (ioid !== this.refreshIoid || !this.timeSubscription) return;
    this.refreshIoid = undefined;
    this.onValue(this.timeSubscription, type, count, status, payload);
  }

  onEventError(subId: number, status: number, text: string): void {
    const which = subId === this.timeSubscription?.subId ? 'value' : 'metadata';
    this.host.logger.error('CA server refused a subscription', {
      pv: this.name,
      subscription: which,
      error: text,
    });
    if (subId === this.ctrlSubscription?.subId) {
      this.ctrlSubscription = undefined;
      this.metadataReady();
      return;
    }
    if (subId !== this.timeSubscription?.subId) return;
    this.timeSubscription = undefined;
    this.subscribers.publishConnection('remote_error', `${ecaStatusName(status)}: ${text}`);
  }

  private onValue(
    subscription: ServerSubscription,
    type: number,
    count: number,
    status: number,
    payload: Buffer,
  ): void {
    if (type !== subscription.dbrType) {
      throw new CaProtocolError(`reply of DBR type ${type} to a DBR type ${subscription.dbrType} request`);
    }
    if (status !== EcaStatus.NORMAL) {
      // The data of a non-NORMAL reply is zeroed: never forward it as a value.
      this.host.counters.updatesWithErrorStatus++;
      this.host.logger.debug('CA update without data', { pv: this.name, status: ecaStatusName(status) });
      return;
    }
    checkDbrPayload(type, count, payload);
    if (!this.metadataKnown) {
      this.heldValue = { count, payload: Buffer.from(payload) };
      return;
    }
    this.deliver(
      decodeTimeUpdate(this.nativeType as NativeType, count, this.nativeCount === 1, payload, this.metadata),
    );
  }

  private onMetadata(subscription: ServerSubscription, type: number, status: number, payload: Buffer): void {
    if (type !== subscription.dbrType) {
      throw new CaProtocolError(`reply of DBR type ${type} to a DBR type ${subscription.dbrType} request`);
    }
    if (status === EcaStatus.NORMAL) {
      checkDbrPayload(type, 0, payload);
      this.metadata = channelMetadata(readMetadata(type, payload));
    }
    if (!this.metadataKnown) this.metadataReady();
  }

  private metadataReady(): void {
    this.metadataKnown = true;
    const held = this.heldValue;
    this.heldValue = undefined;
    if (held) {
      this.deliver(
        decodeTimeUpdate(
          this.nativeType as NativeType,
          held.count,
          this.nativeCount === 1,
          held.payload,
          this.metadata,
        ),
      );
    }
  }

  private deliver(update: PvUpdate): void {
    if (!this.isConnected) this.subscribers.publishConnection('connected', this.circuit?.key);
    this.host.counters.updatesDelivered++;
    this.subscribers.publish(update);
  }

  private announceDisconnected(reason: string): void {
    this.subscribers.publishLoss('disconnected', reason);
  }

  /**
   * Back to searching under a new CID. Unless the server itself dropped the channel, a circuit that stays up is
   * told (EVENT_CANCEL, CLEAR_CHANNEL).
   */
  private restartSearch(delayMs: number, reason: string, serverDropped: boolean): void {
    this.detach(!serverDropped);
    this.announceDisconnected(reason);
    this.host.stopSearch(this);
    this.state = 'searching';
    this.cid = this.host.nextId();
    this.host.startSearch(this, delayMs);
  }

  /** Leaves the current circuit; with `clear`, tells the server (cancels and CLEAR_CHANNEL) if it is still up. */
  private detach(clear: boolean): void {
    const circuit = this.circuit;
    this.circuit = undefined;
    const sid = this.sid;
    this.sid = undefined;
    const subscriptions = [this.ctrlSubscription, this.timeSubscription];
    this.ctrlSubscription = undefined;
    this.timeSubscription = undefined;
    const refreshIoid = this.refreshIoid;
    this.refreshIoid = undefined;
    this.heldValue = undefined;
    this.metadataKnown = false;
    if (!circuit) return;
    if (refreshIoid !== undefined) circuit.forgetRoute(refreshIoid);
    for (const subscription of subscriptions) {
      if (subscription && sid !== undefined) {
        if (clear) circuit.unsubscribe(sid, subscription.subId, subscription.dbrType, subscription.count);
        else circuit.forgetRoute(subscription.subId);
      }
    }
    circuit.removeChannel(this, clear ? sid : undefined);
  }
}
