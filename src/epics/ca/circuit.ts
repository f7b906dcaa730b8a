/**
 * A virtual circuit: the TCP connection to one server, as a state machine without I/O.
 *
 * It writes through a `CircuitTransport` (a socket in production, an array in tests), is fed received bytes
 * through `receive()`, and routes each message to the channel it concerns. Any frame that breaks the protocol
 * throws CaProtocolError out of `receive()`; the transport then closes the circuit.
 */
import type { ClientIdentity } from '../common/identity.js';
import {
  AccessRight,
  CA_MINOR_VERSION,
  Command,
  ecaStatusName,
  MINOR_DYNAMIC_COUNT,
  MINOR_TCP_SEARCH,
  NATIVE_TYPE_COUNT,
  type NativeType,
} from './constants.js';
import { MessageFramer } from './framer.js';
import {
  CaProtocolError,
  decodeErrorPayload,
  encodeClearChannel,
  encodeClientName,
  encodeCreateChannel,
  encodeEcho,
  encodeEventAdd,
  encodeEventCancel,
  encodeHostName,
  encodeReadNotify,
  encodeSearch,
  encodeVersion,
  type MessageHeader,
} from './messages.js';
import { searchReply, type SearchReply } from './search.js';

/** The I/O side of a circuit. */
export interface CircuitTransport {
  write(data: Buffer): void;
  /** Closes the connection; the owner then calls `Circuit.close()`. */
  close(): void;
}

/** What a circuit tells the channels it carries. */
export interface CircuitChannel {
  readonly cid: number;
  onAccessRights(rights: number): void;
  onCreated(sid: number, nativeType: NativeType, nativeCount: number): void;
  onCreateFailed(reason: string): void;
  /** SERVER_DISCONN: the server dropped the channel; the circuit stays. */
  onServerDisconnect(): void;
  /** EVENT_ADD reply (with data, or a non-NORMAL status and zeroed data). Cancel acknowledgements are not passed. */
  onEventData(subId: number, dbrType: number, count: number, status: number, payload: Buffer): void;
  /** ERROR embedding an EVENT_ADD: the server refused the subscription. */
  onEventError(subId: number, status: number, text: string): void;
  onReadData(ioid: number, dbrType: number, count: number, status: number, payload: Buffer): void;
  /** The circuit stopped (or resumed) answering without closing. */
  onResponsiveChange(responsive: boolean): void;
  /** The circuit is gone; every id on it is void. */
  onCircuitLost(reason: string): void;
}

/** What a name-server circuit reports. */
export interface SearchReplyListener {
  onSearchReply(reply: SearchReply): void;
}

export type Liveness = 'alive' | 'echo-sent' | 'unresponsive' | 'dead';

export interface LivenessTimes {
  /** Silence before an ECHO is sent. */
  readonly idleMs: number;
  /** No answer this long after the ECHO: channels are reported disconnected. */
  readonly echoTimeoutMs: number;
  /** Silence this long: the circuit is closed and its channels searched again. */
  readonly deadMs: number;
}

export class Circuit {
  /** Effective minor version, min(ours, the server's). */
  minorVersion: number;
  private readonly framer: MessageFramer;
  private readonly channels = new Map<number, CircuitChannel>();
  /** Subscription ids and IOIDs (one id space) to the channel they belong to. */
  private readonly routes = new Map<number, CircuitChannel>();
  private versionReceived = false;
  private closed = false;
  private responsive = true;
  private lastReceiveAt: number;
  private echoSentAt: number | undefined;
  private receivedSinceCheck = false;
  private readonly searchReplies: SearchReplyListener | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly transport: CircuitTransport,
    options: {
      readonly serverMinor: number;
      readonly maxPayloadBytes: number;
      readonly now: number;
      readonly priority?: number;
      readonly identity: ClientIdentity;
      /** Set for name-server circuits, which carry SEARCH replies. */
      readonly searchReplies?: SearchReplyListener;
    },
  ) {
    this.minorVersion = Math.min(CA_MINOR_VERSION, options.serverMinor);
    this.searchReplies = options.searchReplies;
    this.lastReceiveAt = options.now;
    this.framer = new MessageFramer(options.maxPayloadBytes, (header, payload) =>
      this.dispatch(header, payload),
    );
    // Names go once, before the first CREATE_CHAN: they feed the server's access security.
    transport.write(
      Buffer.concat([
        encodeVersion(options.priority ?? 0),
        encodeClientName(options.identity.user),
        encodeHostName(options.identity.host),
      ]),
    );
  }

  get key(): string {
    return `${this.address}:${this.port}`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** Dynamic-count subscriptions need minor 13 on both sides. */
  get supportsDynamicCount(): boolean {
    return this.minorVersion >= MINOR_DYNAMIC_COUNT;
  }

  /** Name servers take SEARCH once their VERSION says minor >= 12. */
  get acceptsSearch(): boolean {
    return !this.closed && this.versionReceived && this.minorVersion >= MINOR_TCP_SEARCH;
  }

  addChannel(channel: CircuitChannel, name: string): void {
    this.channels.set(channel.cid, channel);
    this.transport.write(encodeCreateChannel(channel.cid, name));
  }

  /**
   * Forgets a channel (its subscriptions must have been cancelled first); sends CLEAR_CHANNEL when the server
   * had created it (sid known).
   */
  removeChannel(channel: CircuitChannel, sid: number | undefined): void {
    if (this.channels.get(channel.cid) !== channel) return;
    this.channels.delete(channel.cid);
    if (sid !== undefined && !this.closed) this.transport.write(encodeClearChannel(sid, channel.cid));
  }

  subscribe(
    channel: CircuitChannel,
    sid: number,
    subId: number,
    dbrType: number,
    count: number,
    mask: number,
  ): void {
    this.routes.set(subId, channel);
    this.transport.write(encodeEventAdd(sid, subId, dbrType, count, mask));
  }

  unsubscribe(sid: number, subId: number, dbrType: number, count: number): void {
    if (!this.routes.delete(subId) || this.closed) return;
    this.transport.write(encodeEventCancel(sid, subId, dbrType, count));
  }

  /** Stops routing replies for an id whose channel left without telling the server (it dropped the channel). */
  forgetRoute(id: number): void {
    this.routes.delete(id);
  }

  read(channel: CircuitChannel, sid: number, ioid: number, dbrType: number, count: number): void {
    this.routes.set(ioid, channel);
    this.transport.write(encodeReadNotify(sid, ioid, dbrType, count));
  }

  search(requests: readonly { cid: number; name: string }[]): void {
    if (requests.length === 0) return;
    this.transport.write(Buffer.concat(requests.map((request) => encodeSearch(request.cid, request.name))));
  }

  /** Feeds received bytes. Throws CaProtocolError when the server breaks the protocol. */
  receive(chunk: Buffer): void {
    this.receivedSinceCheck = true;
    this.framer.push(chunk);
  }

  /** A beacon from this server proves it alive, as traffic does. */
  noteBeacon(): void {
    this.receivedSinceCheck = true;
  }

  /**
   * Advances the liveness watchdog (called about once a second): ECHO after `idleMs` of silence, unresponsive
   * `echoTimeoutMs` later, dead after `deadMs`.
   */
  checkLiveness(now: number, times: LivenessTimes): Liveness {
    if (this.receivedSinceCheck) {
      this.receivedSinceCheck = false;
      this.lastReceiveAt = now;
      this.echoSentAt = undefined;
      this.setResponsive(true);
      return 'alive';
    }
    const silence = now - this.lastReceiveAt;
    if (silence >= times.deadMs) return 'dead';
    if (this.echoSentAt === undefined) {
      if (silence < times.idleMs) return 'alive';
      this.echoSentAt = now;
      this.transport.write(encodeEcho());
      return 'echo-sent';
    }
    if (now - this.echoSentAt < times.echoTimeoutMs) return 'echo-sent';
    this.setResponsive(false);
    return 'unresponsive';
  }

  private setResponsive(responsive: boolean): void {
    if (this.responsive === responsive) return;
    this.responsive = responsive;
    for (const channel of [...this.channels.values()]) channel.onResponsiveChange(responsive);
  }

  /** Marks the circuit closed and tells every channel; idempotent. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const channels = [...this.channels.values()];
    this.channels.clear();
    this.routes.clear();
    for (const channel of channels) channel.onCircuitLost(reason);
  }

  private dispatch(header: MessageHeader, payload: Buffer): void {
    switch (header.command) {
      case Command.EVENT_ADD:
        this.onEventAdd(header, payload);
        return;
      case Command.READ_NOTIFY:
        this.routes.get(header.p2)?.onReadData(header.p2, header.dataType, header.count, header.p1, payload);
        this.routes.delete(header.p2);
        return;
      case Command.VERSION:
        this.versionReceived = true;
        if (header.count > 0) this.minorVersion = Math.min(CA_MINOR_VERSION, header.count);
        return;
      case Command.ACCESS_RIGHTS:
        this.channels.get(header.p1)?.onAccessRights(header.p2 & (AccessRight.READ | AccessRight.WRITE));
        return;
      case Command.CREATE_CHAN:
        if (header.dataType >= NATIVE_TYPE_COUNT) {
          throw new CaProtocolError(`CREATE_CHAN reply with native type ${header.dataType}`);
        }
        this.channels.get(header.p1)?.onCreated(header.p2, header.dataType as NativeType, header.count);
        return;
      case Command.CREATE_CH_FAIL:
        this.channels.get(header.p1)?.onCreateFailed('the server refused to create the channel');
        return;
      case Command.SERVER_DISCONN:
        this.channels.get(header.p1)?.onServerDisconnect();
        return;
      case Command.ERROR:
        this.onError(payload, header.p2);
        return;
      case Command.SEARCH:
        this.onSearchReply(header, payload);
        return;
      case Command.CLEAR_CHANNEL:
      case Command.ECHO:
      case Command.NOT_FOUND:
      case Command.EVENT_CANCEL:
        return;
      default:
        throw new CaProtocolError(`unexpected command ${header.command}`);
    }
  }

  private onEventAdd(header: MessageHeader, payload: Buffer): void {
    const channel = this.routes.get(header.p2);
    // A reply for a subscription cancelled meanwhile is normal; a size-0 reply is the cancel acknowledgement.
    if (!channel || header.payloadSize === 0) return;
    channel.onEventData(header.p2, header.dataType, header.count, header.p1, payload);
  }

  private onError(payload: Buffer, status: number): void {
    const { request, text } = decodeErrorPayload(payload);
    const detail = `${ecaStatusName(status)}${text ? `: ${text}` : ''}`;
    switch (request.command) {
      case Command.EVENT_ADD:
        this.routes.get(request.p2)?.onEventError(request.p2, status, detail);
        return;
      case Command.READ_NOTIFY:
        this.routes.get(request.p2)?.onReadData(request.p2, request.dataType, 0, status, Buffer.alloc(0));
        this.routes.delete(request.p2);
        return;
      case Command.CREATE_CHAN:
        this.channels.get(request.p1)?.onCreateFailed(detail);
        return;
      default:
        // Errors about requests that need no answer (e.g. a cancel racing a server-side drop) change nothing.
        return;
    }
  }

  private onSearchReply(header: MessageHeader, payload: Buffer): void {
    if (!this.searchReplies) throw new CaProtocolError('SEARCH reply on a data circuit');
    this.searchReplies.onSearchReply(searchReply(header, payload, this.address, this.minorVersion));
  }
}
