/**
 * The pvAccess client the forwarder uses (spec §12): subscribe by PV name, get connection events and updates in
 * the protocol-neutral model. One channel and one monitor (pvRequest `field()`) per PV name, shared by every
 * subscription of that name; each subscription can be cancelled on its own.
 *
 * Channel life: searching (UDP and name servers, with back-off) → connecting (circuit to the replying server)
 * → creating (CREATE_CHANNEL) → active (MONITOR INIT, START, updates). Circuit loss or a server-side channel
 * destroy sends the channel back to searching; a monitor error or final is retried on the same channel after a
 * growing delay. "connected" is published with the first update of each monitor, so a consumer never sees a
 * stale value after a reconnect.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { BitSet } from './bitset.js';
import { Circuit, type CircuitListener } from './circuit.js';
import {
  type Endpoint,
  type Environment,
  type PvaClientConfig,
  type SearchDestination,
  readPvaConfig,
} from './config.js';
import { readHeader, isControl, isLittleEndian } from './header.js';
import { type FieldDesc, type StructureDesc, describeType, decodeFieldDesc } from './introspection.js';
import { LogLimiter } from './log-limit.js';
import {
  type CaCredentials,
  type ChannelIds,
  type CreateChannelResponse,
  type MonitorOptions,
  type SearchRequest,
  type SearchResponse,
  type ServerMessage,
  decodeSearchResponse,
  encodeSearch,
} from './messages.js';
import { NormativeMapper } from './normative.js';
import {
  Command,
  HEADER_SIZE,
  MessageType,
  MonitorSubcommand,
  SearchFlag,
  TCP_PROTOCOL,
} from './protocol.js';
import { INITIAL_SEARCH_DELAY_MS, SEARCH_TICK_MS, SearchScheduler, packSearchChannels } from './search.js';
import { TcpTransport, UdpSearchSocket } from './transport.js';
import { type PvStructureData, StructureLayout, StructureStore, decodeDelta } from './values.js';
import {
  PvaProtocolError,
  type PvaStatus,
  WireReader,
  WireWriter,
  describeStatus,
  isSuccess,
} from './wire.js';
import { type Logger, silentLogger } from '../../logging/logger.js';
import { RateLimitedLog } from '../../logging/rate-limited.js';
import {
  type ConnectionEvent,
  type ConnectionState,
  type PvProvider,
  type PvUpdate,
  type Subscription,
  type SubscriptionListener,
  wallClockNs,
} from '../../model/update.js';

export interface PvaClientOptions {
  /** EPICS environment (EPICS_PVA_*); default process.env. */
  readonly env?: Environment;
  readonly logger?: Logger;
  /** Monitor flow control: server queue size and pipelining (default: server defaults, no pipelining). */
  readonly monitor?: MonitorOptions;
  /** Credentials for servers offering "ca" authentication; default: this process's user and host name. */
  readonly credentials?: CaCredentials;
}

/** Counters for metrics. All only ever increase. */
export interface PvaClientCounters {
  circuitsOpened: number;
  circuitsClosed: number;
  /** Circuits closed because the server sent something undecodable or out of protocol. */
  protocolErrors: number;
  /** Circuits closed because the server went silent. */
  idleTimeouts: number;
  /** Monitor updates received and merged (one per server message, whatever the number of subscribers). */
  updatesReceived: number;
  /** Updates handed to update listeners (counted per listener call). */
  updatesDelivered: number;
  /** Fields the server reported as overrun: values it squashed into later ones. */
  coalescedUpdates: number;
  /** Updates whose value the update model cannot express (see the log for the type). */
  unsupportedUpdates: number;
  /** Exceptions thrown by listeners (logged and otherwise ignored). */
  listenerErrors: number;
  searchDatagramsSent: number;
  searchResponses: number;
  /** Datagrams on the search socket that could not be decoded. */
  badDatagrams: number;
  /** Monitor INIT errors and error finals from servers. */
  remoteErrors: number;
  bytesReceived: number;
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

/** pvxs waits this long before reconnecting to a server it just lost. */
const RECONNECT_HOLDOFF_MS = 2000;
/** Monitor retries after an error or final: 1 s, doubling up to this. */
const MAX_MONITOR_RETRY_MS = 30_000;
/** Name servers are reconnected after this delay. */
const NAME_SERVER_RETRY_MS = 2000;
/** Distinct types whose compiled layouts are shared between channels. */
const MAX_CACHED_LAYOUTS = 512;
const DEFAULT_PIPELINE_QUEUE = 4;

type ChannelState = 'searching' | 'connecting' | 'creating' | 'active' | 'closed';

class Monitor {
  store: StructureStore | undefined;
  mapper: NormativeMapper | undefined;
  receivedUpdate = false;
  unacknowledged = 0;
  constructor(readonly ioid: number) {}
}

class Channel {
  state: ChannelState = 'searching';
  connection: ServerConnection | undefined;
  sid = -1;
  serverGuid = '';
  monitor: Monitor | undefined;
  /** Copy-on-write (as the CA channel's listeners): a one-element array costs less than a Set per channel. */
  updateSubscriptions: readonly UpdateSubscription[] = [];
  /** Only structure consumers subscribe this way, so the set is made on first use (one less per channel). */
  private structures: Set<StructureSubscription> | undefined;
  published: ConnectionState | undefined;
  lastUpdate: PvUpdate | undefined;
  monitorRetries = 0;
  retryTimer: NodeJS.Timeout | undefined;
  warnedUnsupported = false;
  warnedDuplicate = false;

  constructor(
    readonly name: string,
    readonly cid: number,
  ) {}

  get structureSubscriptions(): ReadonlySet<StructureSubscription> {
    return this.structures ?? NO_STRUCTURE_SUBSCRIPTIONS;
  }

  addStructureSubscription(subscription: StructureSubscription): void {
    (this.structures ??= new Set()).add(subscription);
  }

  deleteStructureSubscription(subscription: StructureSubscription): void {
    this.structures?.delete(subscription);
  }

  clearSubscriptions(): void {
    this.updateSubscriptions = [];
    this.structures = undefined;
  }

  get subscriberCount(): number {
    return this.updateSubscriptions.length + this.structureSubscriptions.size;
  }
}

const NO_STRUCTURE_SUBSCRIPTIONS: ReadonlySet<StructureSubscription> = new Set();

class UpdateSubscription implements Subscription {
  cancelled = false;
  lastDelivered: PvUpdate | undefined;
  constructor(
    private readonly client: PvaClient,
    readonly channel: Channel,
    readonly listener: SubscriptionListener,
  ) {}
  cancel(): void {
    this.client.cancel(this);
  }
}

class StructureSubscription implements Subscription {
  cancelled = false;
  constructor(
    private readonly client: PvaClient,
    readonly channel: Channel,
    readonly listener: StructureListener,
  ) {}
  cancel(): void {
    this.client.cancel(this);
  }
}

/** A circuit with its socket and the channels bound to it. */
class ServerConnection {
  readonly channelsByCid = new Map<number, Channel>();
  readonly channelsBySid = new Map<number, Channel>();
  readonly monitorsByIoid = new Map<number, Channel>();
  readonly transport: TcpTransport;
  /** Resolves once the socket is closed and the channels were released. */
  readonly closed: Promise<void>;
  emptySinceMs: number | undefined;
  connectStartedMs: number | undefined;
  holdoffTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly circuit: Circuit,
    readonly host: string,
    readonly port: number,
    readonly nameServer: boolean,
    onClose: (connection: ServerConnection, reason: string) => void,
  ) {
    let resolveClosed = (): void => undefined;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    this.transport = new TcpTransport(circuit, host, port, {
      onClose: (_transport, reason) => {
        clearTimeout(this.holdoffTimer);
        onClose(this, reason);
        resolveClosed();
      },
    });
  }

  connect(): void {
    this.holdoffTimer = undefined;
    this.connectStartedMs = Date.now();
    this.transport.connect();
  }
}

export class PvaClient implements PvProvider {
  private readonly config: PvaClientConfig;
  private readonly logger: Logger;
  private readonly monitorOptions: MonitorOptions;
  private readonly ackThreshold: number;
  private readonly credentials: CaCredentials;
  private readonly liveCounters: PvaClientCounters = {
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
    remoteErrors: 0,
    bytesReceived: 0,
  };

  private readonly channels = new Map<string, Channel>();
  private readonly channelsByCid = new Map<number, Channel>();
  private readonly connections = new Map<string, ServerConnection>();
  private readonly recentlyClosed = new Map<string, number>();
  private readonly nameServerConnections = new Set<ServerConnection>();
  private readonly search = new SearchScheduler<Channel>();
  private readonly layouts = new Map<string, StructureLayout>();
  private readonly changedBits = new BitSet();
  private readonly overrunBits = new BitSet();
  private readonly datagramReader = new WireReader();
  private readonly searchWriter = new WireWriter(false);

  private closedBytesReceived = 0;
  private nextCid = 1;
  private nextIoid = 1;
  private nextSearchSequence = 1;
  private udp: UdpSearchSocket | undefined;
  private searchDestinations: Promise<SearchDestination[]> | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private initialSearchTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly circuitListener: CircuitListener;
  /** Per-channel and per-update messages go through this, so storms stay readable. */
  private readonly channelLog: LogLimiter;
  /** Anyone can send datagrams to the search socket, as fast as they like: one line now and then. */
  private readonly badDatagramLog: RateLimitedLog;

  constructor(options: PvaClientOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.config = readPvaConfig(options.env ?? process.env, this.logger);
    this.monitorOptions = options.monitor?.pipeline
      ? { ...options.monitor, queueSize: options.monitor.queueSize ?? DEFAULT_PIPELINE_QUEUE }
      : (options.monitor ?? {});
    this.ackThreshold = Math.max(
      1,
      Math.floor((this.monitorOptions.queueSize ?? DEFAULT_PIPELINE_QUEUE) / 2),
    );
    this.credentials = options.credentials ?? defaultCredentials();
    this.circuitListener = this.makeCircuitListener();
    this.channelLog = new LogLimiter(this.logger);
    this.badDatagramLog = new RateLimitedLog(this.logger, 'warn');
  }

  /** Live counters (read-only view). */
  get counters(): Readonly<PvaClientCounters> {
    let bytes = this.closedBytesReceived;
    for (const connection of this.connections.values()) bytes += connection.circuit.bytesReceived;
    this.liveCounters.bytesReceived = bytes;
    return this.liveCounters;
  }

  /** Number of PV names with at least one subscription. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Number of those currently connected (monitor delivering). */
  get connectedChannelCount(): number {
    let n = 0;
    for (const channel of this.channels.values()) if (channel.published === 'connected') n++;
    return n;
  }

  subscribe(pvName: string, listener: SubscriptionListener): Subscription {
    const channel = this.channelFor(pvName);
    const subscription = new UpdateSubscription(this, channel, listener);
    channel.updateSubscriptions = channel.updateSubscriptions.concat(subscription);
    if (channel.published === 'connected') {
      // Joining a running monitor: replay its state, as if this subscription had its own.
      queueMicrotask(() => this.replay(subscription));
    }
    return subscription;
  }

  /** Subscribes to the merged structure itself (any type, including what the update model cannot express). */
  subscribeStructure(pvName: string, listener: StructureListener): Subscription {
    const channel = this.channelFor(pvName);
    const subscription = new StructureSubscription(this, channel, listener);
    channel.addStructureSubscription(subscription);
    const store = channel.monitor?.store;
    if (channel.published === 'connected' && store) {
      queueMicrotask(() => {
        if (subscription.cancelled || channel.monitor?.store !== store) return;
        this.callListener(channel, () => listener.onConnection(connectionEvent('connected')));
        this.callListener(channel, () => listener.onStructure(structureUpdate(store, true)));
      });
    }
    return subscription;
  }

  /** @internal Used by Subscription.cancel(). */
  cancel(subscription: UpdateSubscription | StructureSubscription): void {
    if (subscription.cancelled) return;
    subscription.cancelled = true;
    const channel = subscription.channel;
    if (subscription instanceof UpdateSubscription) {
      channel.updateSubscriptions = channel.updateSubscriptions.filter((other) => other !== subscription);
    } else channel.deleteStructureSubscription(subscription);
    if (channel.subscriberCount === 0) this.dropChannel(channel);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.housekeeping);
    clearTimeout(this.initialSearchTimer);
    for (const channel of [...this.channels.values()]) {
      for (const subscription of [...channel.updateSubscriptions, ...channel.structureSubscriptions]) {
        subscription.cancelled = true;
      }
      channel.clearSubscriptions();
      this.dropChannel(channel);
    }
    const connections = [...this.connections.values()];
    for (const connection of connections) connection.transport.close('client closed');
    await Promise.race([
      Promise.all(connections.map((connection) => connection.closed)),
      new Promise((resolveLater) => setTimeout(resolveLater, 2000).unref()),
    ]);
    await this.udp?.close();
  }

  // ---- channels ------------------------------------------------------------------------------------------

  private channelFor(name: string): Channel {
    if (this.closed) throw new Error('PvaClient is closed');
    const existing = this.channels.get(name);
    if (existing) return existing;
    this.start();
    const channel = new Channel(name, this.nextCid++);
    this.channels.set(name, channel);
    this.channelsByCid.set(channel.cid, channel);
    this.startSearching(channel);
    return channel;
  }

  private dropChannel(channel: Channel): void {
    this.search.remove(channel);
    clearTimeout(channel.retryTimer);
    const connection = channel.connection;
    if (connection && connection.circuit.state === 'ready') {
      if (channel.monitor && channel.sid >= 0)
        connection.circuit.destroyRequest(channel.sid, channel.monitor.ioid);
      if (channel.state === 'active') connection.circuit.destroyChannel(channel.sid, channel.cid);
      connection.transport.scheduleFlush();
    }
    this.unbind(channel);
    channel.state = 'closed';
    this.channels.delete(channel.name);
    this.channelsByCid.delete(channel.cid);
  }

  /** Detaches a channel from its connection (ids there become void). */
  private unbind(channel: Channel): void {
    clearTimeout(channel.retryTimer);
    channel.retryTimer = undefined;
    const connection = channel.connection;
    if (connection) {
      connection.channelsByCid.delete(channel.cid);
      if (channel.sid >= 0) connection.channelsBySid.delete(channel.sid);
      if (channel.monitor) connection.monitorsByIoid.delete(channel.monitor.ioid);
      if (connection.channelsByCid.size === 0) connection.emptySinceMs = Date.now();
    }
    channel.connection = undefined;
    channel.sid = -1;
    channel.monitor = undefined;
  }

  private startSearching(channel: Channel): void {
    channel.state = 'searching';
    this.search.add(channel);
    if (!this.initialSearchTimer) {
      this.initialSearchTimer = setTimeout(() => {
        this.initialSearchTimer = undefined;
        void this.sendSearches(this.search.takeInitial());
      }, INITIAL_SEARCH_DELAY_MS);
    }
  }

  /** Back to searching after losing the server side of a channel. */
  private lose(channel: Channel, state: ConnectionState, detail: string): void {
    this.unbind(channel);
    if (channel.state === 'closed') return;
    if (channel.published !== undefined || state !== 'disconnected') this.publish(channel, state, detail);
    this.startSearching(channel);
  }

  // ---- search --------------------------------------------------------------------------------------------

  private start(): void {
    if (this.udp) return;
    this.udp = new UdpSearchSocket(
      (datagram, source) => this.onDatagram(datagram, source),
      (error) => this.logger.error(`PVA search socket error: ${error.message}`),
    );
    this.searchDestinations = this.resolveDestinations();
    this.housekeeping = setInterval(() => this.tick(), SEARCH_TICK_MS);
    this.housekeeping.unref();
    for (const endpoint of this.config.nameServers) void this.openNameServer(endpoint);
  }

  private async resolveDestinations(): Promise<SearchDestination[]> {
    const out: SearchDestination[] = [];
    for (const destination of this.config.searchDestinations) {
      const host = await this.resolveHost(destination.host);
      if (host) out.push({ ...destination, host });
    }
    return out;
  }

  private async resolveHost(host: string): Promise<string | undefined> {
    if (isIP(host) === 4) return host;
    try {
      return (await lookup(host, { family: 4 })).address;
    } catch (error) {
      this.logger.warn(`Cannot resolve PVA address "${host}": ${(error as Error).message}`);
      return undefined;
    }
  }

  private async sendSearches(channels: Channel[]): Promise<void> {
    const live = channels.filter((channel) => channel.state === 'searching');
    if (live.length === 0 || !this.udp) return;
    let port: number;
    let destinations: SearchDestination[];
    try {
      [port, destinations] = await Promise.all([
        this.udp.port(),
        this.searchDestinations ?? Promise.resolve([]),
      ]);
    } catch (error) {
      // No UDP socket (cannot bind): name servers may still work; retries come with the next tick.
      this.logger.error(`PVA search socket unavailable: ${(error as Error).message}`);
      return;
    }
    if (this.closed) return;
    const groups = packSearchChannels(live.map((channel) => ({ id: channel.cid, name: channel.name })));
    for (const group of groups) {
      const request: SearchRequest = {
        sequenceId: this.nextSearchSequence++ >>> 0,
        flags: 0,
        responseAddress: null,
        responsePort: port,
        protocols: [TCP_PROTOCOL],
        channels: group,
      };
      this.sendDatagrams(request, destinations);
      for (const connection of this.nameServerConnections) {
        if (connection.circuit.state !== 'ready') continue;
        connection.circuit.search(request);
        connection.transport.scheduleFlush();
      }
    }
  }

  private sendDatagrams(request: SearchRequest, destinations: readonly SearchDestination[]): void {
    const encoded = new Map<boolean, Buffer>();
    const datagramFor = (unicast: boolean): Buffer => {
      let datagram = encoded.get(unicast);
      if (!datagram) {
        encodeSearch(
          this.searchWriter,
          unicast ? { ...request, flags: request.flags | SearchFlag.unicast } : request,
        );
        datagram = this.searchWriter.take();
        encoded.set(unicast, datagram);
      }
      return datagram;
    };
    for (const destination of destinations) {
      this.liveCounters.searchDatagramsSent++;
      this.udp?.send(datagramFor(!destination.broadcast), destination.host, destination.port, (error) =>
        this.logger.debug(`PVA search to ${destination.host}:${destination.port} failed: ${error.message}`),
      );
    }
  }

  private onDatagram(datagram: Buffer, source: string): void {
    try {
      let offset = 0;
      while (datagram.length - offset >= HEADER_SIZE) {
        const header = readHeader(datagram, offset, true);
        if (isControl(header.flags)) {
          offset += HEADER_SIZE;
          continue;
        }
        const end = offset + HEADER_SIZE + header.size;
        if (end > datagram.length) throw new PvaProtocolError('datagram shorter than its message');
        if (header.command === Command.searchResponse) {
          const reader = this.datagramReader.reset(
            datagram,
            offset + HEADER_SIZE,
            end,
            isLittleEndian(header.flags),
          );
          this.onSearchResponse(decodeSearchResponse(reader), source);
        }
        offset = end;
      }
    } catch (error) {
      this.liveCounters.badDatagrams++;
      this.badDatagramLog.log(
        `Ignoring a malformed PVA datagram from ${source}: ${(error as Error).message}`,
      );
    }
  }

  private onSearchResponse(response: SearchResponse, source: string): void {
    this.liveCounters.searchResponses++;
    if (!response.found || response.protocol !== TCP_PROTOCOL) return;
    const host = response.serverAddress ?? source;
    const key = `${host}:${response.serverPort}`;
    for (const cid of response.channelIds) {
      const channel = this.channelsByCid.get(cid);
      if (!channel) continue;
      if (channel.state !== 'searching') {
        if (response.guid !== channel.serverGuid && !channel.warnedDuplicate) {
          channel.warnedDuplicate = true;
          this.channelLog.log(
            'warn',
            `Duplicate PV name "${channel.name}": served by ${channel.connection?.circuit.key ?? 'another server'} and ${key}; keeping the first.`,
          );
        }
        continue;
      }
      this.search.remove(channel);
      channel.serverGuid = response.guid;
      const connection = this.connectionTo(key, host, response.serverPort);
      channel.state = 'connecting';
      channel.connection = connection;
      connection.channelsByCid.set(channel.cid, channel);
      connection.emptySinceMs = undefined;
      if (connection.circuit.state === 'ready') this.createChannel(connection, channel);
    }
  }

  // ---- connections ---------------------------------------------------------------------------------------

  private connectionTo(key: string, host: string, port: number, nameServer = false): ServerConnection {
    const existing = this.connections.get(key);
    if (existing && existing.circuit.state !== 'closed') return existing;
    const circuit = new Circuit(key, this.circuitListener, {
      credentials: this.credentials,
      logger: this.logger,
    });
    const connection = new ServerConnection(circuit, host, port, nameServer, (closed, reason) =>
      this.onConnectionClosed(closed, reason),
    );
    this.connections.set(key, connection);
    this.liveCounters.circuitsOpened++;
    const holdoff = (this.recentlyClosed.get(key) ?? 0) + RECONNECT_HOLDOFF_MS - Date.now();
    if (holdoff > 0) connection.holdoffTimer = setTimeout(() => connection.connect(), holdoff);
    else connection.connect();
    this.logger.debug(`Connecting to PVA server ${key}`);
    return connection;
  }

  private async openNameServer(endpoint: Endpoint): Promise<void> {
    const host = await this.resolveHost(endpoint.host);
    if (this.closed) return;
    if (!host) {
      setTimeout(() => void this.openNameServer(endpoint), NAME_SERVER_RETRY_MS).unref();
      return;
    }
    const connection = this.connectionTo(`${host}:${endpoint.port}`, host, endpoint.port, true);
    this.nameServerConnections.add(connection);
  }

  private onConnectionClosed(connection: ServerConnection, reason: string): void {
    const key = connection.circuit.key;
    if (this.connections.get(key) === connection) this.connections.delete(key);
    this.recentlyClosed.set(key, Date.now());
    this.liveCounters.circuitsClosed++;
    this.closedBytesReceived += connection.circuit.bytesReceived;
    if (!this.closed) this.logger.info(`PVA server ${key} disconnected: ${reason}`);
    for (const channel of [...connection.channelsByCid.values()]) {
      this.lose(channel, 'disconnected', `server ${key}: ${reason}`);
    }
    if (this.nameServerConnections.delete(connection) && !this.closed) {
      const endpoint = { host: connection.host, port: connection.port };
      setTimeout(() => void this.openNameServer(endpoint), NAME_SERVER_RETRY_MS).unref();
    }
  }

  private createChannel(connection: ServerConnection, channel: Channel): void {
    connection.circuit.createChannel(channel.cid, channel.name);
    channel.state = 'creating';
    connection.transport.scheduleFlush();
  }

  private startMonitor(channel: Channel): void {
    const connection = channel.connection;
    if (!connection || channel.state !== 'active') return;
    const monitor = new Monitor(this.nextIoid++ >>> 0);
    channel.monitor = monitor;
    connection.monitorsByIoid.set(monitor.ioid, channel);
    connection.circuit.monitorInit(channel.sid, monitor.ioid, this.monitorOptions);
    connection.transport.scheduleFlush();
  }

  private retryMonitor(channel: Channel): void {
    const connection = channel.connection;
    if (connection && channel.monitor) connection.monitorsByIoid.delete(channel.monitor.ioid);
    channel.monitor = undefined;
    const delay = Math.min(MAX_MONITOR_RETRY_MS, 1000 * 2 ** channel.monitorRetries);
    channel.monitorRetries++;
    clearTimeout(channel.retryTimer);
    channel.retryTimer = setTimeout(() => {
      channel.retryTimer = undefined;
      this.startMonitor(channel);
    }, delay);
  }

  private tick(): void {
    void this.sendSearches(this.search.tick());
    const now = Date.now();
    this.channelLog.roll(now);
    for (const connection of this.connections.values()) {
      const circuit = connection.circuit;
      if (circuit.state === 'connecting') {
        const started = connection.connectStartedMs;
        if (started !== undefined && now - started > this.config.idleTimeoutMs) {
          connection.transport.abort('connect timeout');
        }
        continue;
      }
      if (!circuit.checkAlive(now, this.config.idleTimeoutMs, this.config.echoIntervalMs)) {
        this.liveCounters.idleTimeouts++;
        connection.transport.abort(`no data for ${this.config.idleTimeoutMs / 1000} s`);
        continue;
      }
      if (
        !connection.nameServer &&
        connection.emptySinceMs !== undefined &&
        now - connection.emptySinceMs > 1000
      ) {
        connection.transport.close('no channels left');
        continue;
      }
      if (circuit.hasOutput) connection.transport.scheduleFlush();
    }
    for (const [key, closedAt] of this.recentlyClosed) {
      if (now - closedAt > RECONNECT_HOLDOFF_MS) this.recentlyClosed.delete(key);
    }
  }

  // ---- circuit events ------------------------------------------------------------------------------------

  private makeCircuitListener(): CircuitListener {
    const connectionOf = (circuit: Circuit): ServerConnection | undefined => {
      const connection = this.connections.get(circuit.key);
      return connection?.circuit === circuit ? connection : undefined;
    };
    return {
      onReady: (circuit) => {
        const connection = connectionOf(circuit);
        if (!connection) return;
        this.logger.debug(`PVA server ${circuit.key} ready (auth ${circuit.authMethod})`);
        for (const channel of connection.channelsByCid.values()) {
          if (channel.state === 'connecting') this.createChannel(connection, channel);
        }
        if (connection.nameServer) void this.sendSearches(this.search.all());
      },
      onCreateChannel: (circuit, response) => {
        const connection = connectionOf(circuit);
        if (connection) this.onCreateChannel(connection, response);
      },
      onDestroyChannel: (circuit, ids) => {
        const connection = connectionOf(circuit);
        if (connection) this.onDestroyChannel(connection, ids);
      },
      onMonitor: (circuit, ioid, subcommand, reader) => {
        const channel = connectionOf(circuit)?.monitorsByIoid.get(ioid);
        // Messages for monitors we already destroyed are normal in flight: ignore them.
        if (channel?.monitor?.ioid === ioid)
          this.onMonitor(channel, channel.monitor, circuit, subcommand, reader);
      },
      onSearchResponse: (circuit, response) => {
        const connection = connectionOf(circuit);
        if (connection) this.onSearchResponse(response, connection.host);
      },
      onServerMessage: (circuit, message) => this.onServerMessage(circuit, message),
      onProtocolError: (circuit, error) => {
        this.liveCounters.protocolErrors++;
        this.logger.error(
          `PVA server ${circuit.key} sent invalid data, closing the connection: ${error.message}`,
        );
        connectionOf(circuit)?.transport.abort(`protocol error: ${error.message}`);
      },
    };
  }

  private onCreateChannel(connection: ServerConnection, response: CreateChannelResponse): void {
    const channel = connection.channelsByCid.get(response.cid);
    if (!channel || channel.state !== 'creating') {
      // A channel we no longer want (or never asked for): release it on the server.
      if (isSuccess(response.status)) {
        connection.circuit.destroyChannel(response.sid, response.cid);
        connection.transport.scheduleFlush();
      }
      return;
    }
    if (!isSuccess(response.status)) {
      this.channelLog.log(
        'warn',
        `PVA server ${connection.circuit.key} refused channel "${channel.name}": ${describeStatus(response.status)}`,
      );
      this.unbind(channel);
      channel.state = 'searching';
      this.search.deferToSlowest(channel);
      return;
    }
    channel.sid = response.sid;
    channel.state = 'active';
    connection.channelsBySid.set(response.sid, channel);
    this.startMonitor(channel);
  }

  private onDestroyChannel(connection: ServerConnection, ids: ChannelIds): void {
    const channel = connection.channelsBySid.get(ids.sid);
    if (!channel) return;
    this.channelLog.log('info', `PVA server ${connection.circuit.key} destroyed channel "${channel.name}"`);
    this.lose(channel, 'destroyed', `server ${connection.circuit.key} destroyed the channel`);
  }

  private onMonitor(
    channel: Channel,
    monitor: Monitor,
    circuit: Circuit,
    subcommand: number,
    reader: WireReader,
  ): void {
    if (subcommand & MonitorSubcommand.init) {
      this.onMonitorInit(channel, monitor, circuit, reader);
    } else if (subcommand & MonitorSubcommand.final) {
      const status = reader.status();
      if (reader.remaining > 0 && monitor.store) this.onUpdate(channel, monitor, circuit, reader);
      this.onMonitorEnd(channel, status);
    } else {
      if (!monitor.store)
        throw new PvaProtocolError(`monitor update before its INIT reply (ioid ${monitor.ioid})`);
      this.onUpdate(channel, monitor, circuit, reader);
      if (this.monitorOptions.pipeline && ++monitor.unacknowledged >= this.ackThreshold) {
        circuit.monitorAck(channel.sid, monitor.ioid, monitor.unacknowledged);
        monitor.unacknowledged = 0;
      }
    }
  }

  private onMonitorInit(channel: Channel, monitor: Monitor, circuit: Circuit, reader: WireReader): void {
    const status = reader.status();
    if (!isSuccess(status)) {
      this.onMonitorEnd(channel, status);
      return;
    }
    const layout = this.layoutFor(reader, circuit);
    if (!layout) {
      this.onMonitorEnd(channel, { type: 2, message: 'server sent no structure type', callTree: '' });
      return;
    }
    monitor.store = new StructureStore(layout);
    monitor.mapper = new NormativeMapper(layout);
    if (monitor.mapper.unsupported && channel.updateSubscriptions.length > 0 && !channel.warnedUnsupported) {
      channel.warnedUnsupported = true;
      this.channelLog.log('warn', `PV "${channel.name}" cannot be forwarded: ${monitor.mapper.unsupported}`);
    }
    circuit.monitorStart(channel.sid, monitor.ioid);
  }

  /**
   * The compiled layout of the INIT reply's type (the rest of the message). Identical descriptions that did not
   * use the type cache decode identically, so their layouts are shared between channels.
   */
  private layoutFor(reader: WireReader, circuit: Circuit): StructureLayout | undefined {
    const key = reader.bytes.toString('latin1', reader.pos, reader.end);
    const cached = this.layouts.get(key);
    if (cached) {
      reader.pos = reader.end;
      return cached;
    }
    circuit.rxTypes.used = false;
    const type: FieldDesc | null = decodeFieldDesc(reader, circuit.rxTypes);
    if (type?.kind !== 'structure') {
      if (type) this.logger.warn(`PVA monitor type is not a structure: ${describeType(type)}`);
      return undefined;
    }
    const layout = new StructureLayout(type);
    if (!circuit.rxTypes.used && reader.pos === reader.end && this.layouts.size < MAX_CACHED_LAYOUTS) {
      this.layouts.set(key, layout);
    }
    return layout;
  }

  private onUpdate(channel: Channel, monitor: Monitor, circuit: Circuit, reader: WireReader): void {
    const store = monitor.store as StructureStore;
    decodeDelta(reader, store, circuit.rxTypes, this.changedBits, this.overrunBits);
    const counters = this.liveCounters;
    counters.updatesReceived++;
    counters.coalescedUpdates += store.lastOverrunCount;
    if (!monitor.receivedUpdate) {
      monitor.receivedUpdate = true;
      channel.monitorRetries = 0;
      this.publish(channel, 'connected', `server ${circuit.key}`);
    }
    if (channel.updateSubscriptions.length > 0) {
      const update = (monitor.mapper as NormativeMapper).map(store);
      if (update) {
        channel.lastUpdate = update;
        for (const subscription of channel.updateSubscriptions) {
          if (subscription.cancelled) continue; // by a listener earlier in this delivery
          subscription.lastDelivered = update;
          counters.updatesDelivered++;
          try {
            subscription.listener.onUpdate(update);
          } catch (error) {
            this.listenerFailed(channel, error);
          }
        }
      } else {
        counters.unsupportedUpdates++;
      }
    }
    if (channel.structureSubscriptions.size > 0) {
      const update = structureUpdate(store, false);
      for (const subscription of channel.structureSubscriptions) {
        this.callListener(channel, () => subscription.listener.onStructure(update));
      }
    }
  }

  private onMonitorEnd(channel: Channel, status: PvaStatus): void {
    const detail = describeStatus(status);
    if (isSuccess(status)) {
      this.channelLog.log(
        'info',
        `PVA monitor of "${channel.name}" finished by the server (${detail}); will retry`,
      );
      this.publish(channel, 'finished', detail);
    } else {
      this.liveCounters.remoteErrors++;
      if (channel.published !== 'remote_error') {
        this.channelLog.log('warn', `PVA monitor of "${channel.name}" failed: ${detail}; will retry`);
      }
      this.publish(channel, 'remote_error', detail);
    }
    this.retryMonitor(channel);
  }

  private onServerMessage(circuit: Circuit, message: ServerMessage): void {
    const channel = this.connections.get(circuit.key)?.monitorsByIoid.get(message.ioid);
    const text = `PVA server ${circuit.key}${channel ? ` ("${channel.name}")` : ''}: ${message.text}`;
    if (message.type >= MessageType.error) this.channelLog.log('error', text);
    else if (message.type === MessageType.warning) this.channelLog.log('warn', text);
    else this.channelLog.log('info', text);
  }

  // ---- delivery ------------------------------------------------------------------------------------------

  private publish(channel: Channel, state: ConnectionState, detail: string): void {
    if (channel.published === state) return;
    channel.published = state;
    if (state !== 'connected') channel.lastUpdate = undefined;
    const event = connectionEvent(state, detail);
    for (const subscription of channel.updateSubscriptions) {
      if (subscription.cancelled) continue;
      this.callListener(channel, () => subscription.listener.onConnection(event));
    }
    for (const subscription of channel.structureSubscriptions) {
      this.callListener(channel, () => subscription.listener.onConnection(event));
    }
  }

  private replay(subscription: UpdateSubscription): void {
    const channel = subscription.channel;
    if (subscription.cancelled || channel.published !== 'connected') return;
    const update = channel.lastUpdate;
    // Already delivered by a live update between subscribe() and now.
    if (update && subscription.lastDelivered === update) return;
    this.callListener(channel, () => subscription.listener.onConnection(connectionEvent('connected')));
    if (!update) return;
    subscription.lastDelivered = update;
    this.liveCounters.updatesDelivered++;
    this.callListener(channel, () => subscription.listener.onUpdate(update));
  }

  private callListener(channel: Channel, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.listenerFailed(channel, error);
    }
  }

  private listenerFailed(channel: Channel, error: unknown): void {
    this.liveCounters.listenerErrors++;
    this.channelLog.log(
      'error',
      `Subscriber of PV "${channel.name}" threw: ${(error as Error)?.message ?? String(error)}`,
    );
  }
}

function connectionEvent(state: ConnectionState, detail?: string): ConnectionEvent {
  return detail === undefined
    ? { state, timestampNs: wallClockNs() }
    : { state, timestampNs: wallClockNs(), detail };
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

function defaultCredentials(): CaCredentials {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep the placeholder.
  }
  return { user, host: hostname() };
}
