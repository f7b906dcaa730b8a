/**
 * The pvAccess client the forwarder uses: subscribe to a PV by name and receive connection events and updates in
 * the protocol-neutral model. One channel and one monitor per name, shared by every subscription of that name;
 * searches, circuits, reconnection and re-subscription are handled here without any action by the caller, and
 * server beacons speed up the search when a server starts or restarts. This file holds the sockets, timers and
 * maps; the protocol is in the channel, circuit, monitor and beacon modules.
 */
import type { RemoteInfo } from 'node:dgram';
import { silentLogger, type Logger } from '../../logging/logger.js';
import { RateLimitedLog } from '../../logging/rate-limited.js';
import type { PvProvider, Subscription, SubscriptionListener } from '../../model/update.js';
import { type Endpoint, endpointsText } from '../common/addresses.js';
import type { Environment } from '../common/environment.js';
import { type ClientIdentity, defaultIdentity } from '../common/identity.js';
import { LostServers } from '../common/lost-servers.js';
import { resolveEndpoints } from '../common/resolve.js';
import { BroadcastListener, SearchSocket, SocketTransport } from '../common/transport.js';
import { BeaconTracker, decodeBeaconDatagram } from './beacons.js';
import {
  type ChannelHost,
  newCounters,
  PvaChannel,
  type PvaCounters,
  type StructureListener,
} from './channel.js';
import { Circuit, type CircuitEvents } from './circuit.js';
import { type PvaConfig, readPvaConfig, type SearchDestination } from './config.js';
import {
  type Beacon,
  encodeSearch,
  type MonitorOptions,
  type SearchResponse,
  type ServerMessage,
} from './messages.js';
import { LayoutCache, monitorRequestOptions } from './monitor.js';
import { MessageType, SearchFlag, TCP_PROTOCOL } from './protocol.js';
import {
  decodeSearchDatagram,
  INITIAL_SEARCH_DELAY_MS,
  packSearchChannels,
  SEARCH_TICK_MS,
  SearchScheduler,
} from './search.js';
import { PvaProtocolError, WireWriter } from './wire.js';

export type { PvaCounters, StructureListener, StructureUpdate } from './channel.js';

export interface PvaClientOptions {
  /** EPICS_PVA_* settings; default `process.env`. */
  readonly env?: Environment;
  readonly logger?: Logger;
  /** Monitor flow control: server queue size and pipelining (default: server defaults, no pipelining). */
  readonly monitor?: MonitorOptions;
  /** Names for servers offering "ca" authentication; default the OS user and host name. */
  readonly identity?: ClientIdentity;
}

/** Reconnecting to a server instance (the same GUID) just lost waits this long, so a failing server is no hot loop. */
const RECONNECT_HOLDOFF_MS = 2000;
/** After a beacon anomaly the waiting channels are searched within this spread, so clients do not search in step. */
const BOOST_SPREAD_MS = 200;
/** Beacon anomalies search the waiting channels again at most this often. */
const MIN_BOOST_INTERVAL_MS = 1000;
/** Name servers are reconnected after this delay. */
const NAME_SERVER_RETRY_MS = 2000;
/** A circuit left without channels is closed after this long. */
const EMPTY_CIRCUIT_LINGER_MS = 1000;
/** Per-channel log messages let through per window, and the window. */
const CHANNEL_LOG_LIMIT = 20;
const CHANNEL_LOG_WINDOW_MS = 10_000;

interface Connection {
  readonly circuit: Circuit;
  readonly transport: SocketTransport;
  readonly nameServer: boolean;
  /** The server instance a search reply named ('' for a name server). */
  readonly guid: string;
  /** When the circuit was first seen without channels. */
  emptySinceMs: number | undefined;
}

export class PvaClient implements PvProvider {
  readonly config: PvaConfig;
  private readonly logger: Logger;
  private readonly identity: ClientIdentity;
  private readonly liveCounters: PvaCounters = newCounters();
  private readonly channels = new Map<string, PvaChannel>();
  private readonly channelsByCid = new Map<number, PvaChannel>();
  private readonly connections = new Map<string, Connection>();
  /** Servers lost recently, by key, with the time and the instance: reconnects to it wait out the hold-off. */
  private readonly recentlyClosed = new Map<string, { readonly atMs: number; readonly guid: string }>();
  /** Their return is logged. */
  private readonly lostServers = new LostServers();
  private readonly search = new SearchScheduler<PvaChannel>();
  private readonly searchWriter = new WireWriter(false);
  private readonly host: ChannelHost;
  private readonly circuitEvents: CircuitEvents;
  /** Anyone can send datagrams to the search socket, as fast as they like: one line now and then. */
  private readonly badDatagramLog: RateLimitedLog;
  private closedBytesReceived = 0;
  private nextCid = 1;
  private nextIoid = 1;
  private nextSearchSequence = 1;
  private searchSocket: Promise<SearchSocket | undefined> | undefined;
  private beaconListeners: Promise<(BroadcastListener | undefined)[]> | undefined;
  private beacons: BeaconTracker | undefined;
  private lastBoostAt = 0;
  private searchDestinations: Promise<SearchDestination[]> | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private initialSearchTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: PvaClientOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.config = readPvaConfig(options.env ?? process.env);
    for (const warning of this.config.warnings) this.logger.warn(`PVA configuration: ${warning}`);
    this.identity = options.identity ?? defaultIdentity();
    this.badDatagramLog = new RateLimitedLog(this.logger, 'warn');
    this.host = {
      log: new RateLimitedLog(this.logger, 'warn', CHANNEL_LOG_WINDOW_MS, {
        limit: CHANNEL_LOG_LIMIT,
        subject: 'pvAccess client messages',
      }),
      counters: this.liveCounters,
      monitorOptions: monitorRequestOptions(options.monitor ?? {}),
      layouts: new LayoutCache(),
      nextIoid: () => this.nextIoid++ >>> 0,
      startSearch: (channel) => this.startSearching(channel),
      deferSearch: (channel) => this.search.deferToSlowest(channel),
      stopSearch: (channel) => this.search.remove(channel),
      startTimer: (delayMs, callback) => {
        const timer = setTimeout(callback, delayMs);
        return () => clearTimeout(timer);
      },
      forget: (channel) => {
        if (this.channels.get(channel.name) === channel) this.channels.delete(channel.name);
        this.channelsByCid.delete(channel.cid);
      },
    };
    this.circuitEvents = {
      onReady: (circuit) => {
        const lost = this.lostServers.returned(circuit.key);
        if (lost === undefined)
          this.logger.debug(`PVA server ${circuit.key} ready (auth ${circuit.authMethod})`);
        else {
          this.logger.info(`PVA server ${circuit.key} is back; its channels reconnect`, { channels: lost });
        }
        if (this.connections.get(circuit.key)?.nameServer) void this.sendSearches(this.search.all());
      },
      onSearchResponse: (circuit, response) => {
        // A name server's reply may leave the address to the receiver: the name server's own.
        const connection = this.connections.get(circuit.key);
        if (connection?.circuit === circuit) this.onSearchResponse(response, connection.transport.host);
      },
      onServerMessage: (circuit, message, pvName) => this.onServerMessage(circuit, message, pvName),
    };
  }

  /** Live counters (read-only view). */
  get counters(): Readonly<PvaCounters> {
    let bytes = this.closedBytesReceived;
    for (const connection of this.connections.values()) bytes += connection.circuit.bytesReceived;
    this.liveCounters.bytesReceived = bytes;
    return this.liveCounters;
  }

  /** Channels (distinct PV names) with at least one subscription. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Channels currently connected and delivering. */
  get connectedChannelCount(): number {
    let count = 0;
    for (const channel of this.channels.values()) if (channel.isConnected) count++;
    return count;
  }

  subscribe(pvName: string, listener: SubscriptionListener): Subscription {
    return this.channelFor(pvName).addListener(listener);
  }

  /** Subscribes to the merged structure itself (any type, including what the update model cannot express). */
  subscribeStructure(pvName: string, listener: StructureListener): Subscription {
    return this.channelFor(pvName).addStructureListener(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.housekeeping);
    clearTimeout(this.initialSearchTimer);
    for (const channel of [...this.channels.values()]) channel.close();
    const connections = [...this.connections.values()];
    for (const { transport } of connections) transport.close('client closed');
    await Promise.all([
      ...connections.map(({ transport }) => transport.closed),
      this.searchSocket?.then((socket) => socket?.close()),
      this.beaconListeners?.then((listeners) => Promise.all(listeners.map((listener) => listener?.close()))),
    ]);
  }

  private channelFor(name: string): PvaChannel {
    if (this.closed) throw new Error('the PVA client is closed');
    if (name.length === 0) throw new Error('a PV name must not be empty');
    const existing = this.channels.get(name);
    if (existing) return existing;
    this.start();
    const channel = new PvaChannel(name, this.nextCid++, this.host);
    this.channels.set(name, channel);
    this.channelsByCid.set(channel.cid, channel);
    return channel;
  }

  private start(): void {
    if (this.searchSocket) return;
    this.searchSocket = SearchSocket.open(
      (datagram, source) =>
        this.onDatagram(datagram, source, decodeSearchDatagram, (response, from) =>
          this.onSearchResponse(response, from),
        ),
      (error) => this.logger.error(`PVA search socket error: ${error.message}`),
    ).catch((error: unknown) => {
      // Name servers may still resolve PVs.
      this.logger.error(`PVA search socket unavailable: ${(error as Error).message}`);
      return undefined;
    });
    this.searchDestinations = resolveEndpoints(this.config.searchDestinations, (destination, error) =>
      this.logger.warn(`Cannot resolve PVA address "${destination.host}": ${error.message}`),
    );
    this.listenForBeacons();
    this.housekeeping = setInterval(() => this.tick(), SEARCH_TICK_MS);
    this.housekeeping.unref();
    this.logger.info(
      `PVA searches ${endpointsText(this.config.searchDestinations)}; name servers: ${endpointsText(this.config.nameServers)}`,
    );
    for (const endpoint of this.config.nameServers) void this.openNameServer(endpoint);
  }

  // ---- search --------------------------------------------------------------------------------------------

  private startSearching(channel: PvaChannel): void {
    this.search.add(channel);
    this.scheduleInitialSearch(INITIAL_SEARCH_DELAY_MS);
  }

  /** The initial batch goes out after `delayMs`, or sooner if it is already due. */
  private scheduleInitialSearch(delayMs: number): void {
    this.initialSearchTimer ??= setTimeout(() => {
      this.initialSearchTimer = undefined;
      void this.sendSearches(this.search.takeInitial());
    }, delayMs);
  }

  private async sendSearches(channels: PvaChannel[]): Promise<void> {
    const live = channels.filter((channel) => channel.state === 'searching');
    if (live.length === 0) return;
    const [socket, destinations] = await Promise.all([this.searchSocket, this.searchDestinations ?? []]);
    if (this.closed) return;
    const groups = packSearchChannels(live.map((channel) => ({ id: channel.cid, name: channel.name })));
    for (const group of groups) {
      const request = {
        sequenceId: this.nextSearchSequence++ >>> 0,
        flags: 0,
        responseAddress: null,
        responsePort: socket?.port ?? 0,
        protocols: [TCP_PROTOCOL],
        channels: group,
      };
      if (socket) {
        // Broadcast destinations get the plain request, unicast ones the request flagged as such.
        const datagrams = new Map<boolean, Buffer>();
        for (const destination of destinations) {
          const unicast = !destination.broadcast;
          let datagram = datagrams.get(unicast);
          if (!datagram) {
            encodeSearch(this.searchWriter, unicast ? { ...request, flags: SearchFlag.unicast } : request);
            datagram = this.searchWriter.take();
            datagrams.set(unicast, datagram);
          }
          this.liveCounters.searchDatagramsSent++;
          socket.send(datagram, destination.host, destination.port, (error) =>
            this.logger.debug(
              `PVA search to ${destination.host}:${destination.port} failed: ${error.message}`,
            ),
          );
        }
      }
      for (const connection of this.connections.values()) {
        if (connection.nameServer && connection.circuit.state === 'ready') connection.circuit.search(request);
      }
    }
  }

  /** Decodes a UDP datagram (search responses, beacons) and hands on each message; a bad one is counted. */
  private onDatagram<T>(
    datagram: Buffer,
    source: RemoteInfo,
    decode: (datagram: Buffer) => T[],
    handle: (message: T, sourceAddress: string) => void,
  ): void {
    let messages: T[];
    try {
      messages = decode(datagram);
    } catch (error) {
      this.onBadDatagram(source, error);
      return;
    }
    for (const message of messages) handle(message, source.address);
  }

  private onBadDatagram(source: RemoteInfo, error: unknown): void {
    this.liveCounters.badDatagrams++;
    this.badDatagramLog.log(
      `Ignoring a malformed PVA datagram from ${source.address}: ${(error as Error).message}`,
    );
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
          this.host.log.log(
            `Duplicate PV name "${channel.name}": served by ${channel.serverAddress ?? 'another server'} and ${key}; keeping the first.`,
          );
        }
        continue;
      }
      this.search.remove(channel);
      const connection = this.connectionTo(key, host, response.serverPort, false, response.guid);
      connection.emptySinceMs = undefined;
      channel.connectVia(connection.circuit, response.guid);
    }
  }

  // ---- beacons ------------------------------------------------------------------------------------------

  /**
   * Listens at each beacon address; one that cannot be bound is logged and left out (servers that start or
   * restart there are then found by the search back-off alone).
   */
  private listenForBeacons(): void {
    this.beacons = new BeaconTracker(Date.now());
    this.beaconListeners = Promise.all(
      this.config.beaconAddresses.map(({ host, port }) =>
        BroadcastListener.open(
          host,
          port,
          (datagram, source) =>
            this.onDatagram(datagram, source, decodeBeaconDatagram, (beacon, from) =>
              this.onBeacon(beacon, from),
            ),
          (error) => this.logger.warn(`PVA beacon socket ${host}:${port} error: ${error.message}`),
        ).then(
          (listener) => {
            this.logger.debug(`Listening for PVA beacons at ${host}:${port}`);
            return listener;
          },
          (error: unknown) => {
            this.logger.warn(`Cannot listen for PVA beacons at ${host}:${port}: ${(error as Error).message}`);
            return undefined;
          },
        ),
      ),
    );
  }

  /** A new or restarted server: every channel still waiting is searched again at once, its back-off restarted. */
  private onBeacon(beacon: Beacon, source: string): void {
    if (beacon.protocol !== TCP_PROTOCOL || !this.beacons) return;
    const key = `${beacon.serverAddress ?? source}:${beacon.serverPort}`;
    const now = Date.now();
    if (!this.beacons.observe(key, beacon.guid, beacon.sequence, now)) return;
    this.liveCounters.beaconAnomalies++;
    if (this.search.size === 0 || now - this.lastBoostAt < MIN_BOOST_INTERVAL_MS) return;
    this.lastBoostAt = now;
    this.logger.debug(`PVA server ${key} started or restarted; searching again for ${this.search.size} PVs`);
    this.search.boost();
    this.scheduleInitialSearch(Math.random() * BOOST_SPREAD_MS);
  }

  // ---- circuits ------------------------------------------------------------------------------------------

  /** The connection to a server (`guid`: the instance a search reply named), opened unless it is already. */
  private connectionTo(key: string, host: string, port: number, nameServer: boolean, guid = ''): Connection {
    const existing = this.connections.get(key);
    if (existing && existing.circuit.state !== 'closed') return existing;
    // The framer copies what outlives a read, so every circuit reads into one shared buffer.
    const transport: SocketTransport = new SocketTransport(
      host,
      port,
      this.config.idleTimeoutMs,
      {
        onConnect: () => circuit.connected(Date.now()),
        onData: (chunk) => this.receive(connection, chunk),
        onClose: (reason) => this.onConnectionClosed(connection, reason),
      },
      true,
    );
    const circuit = new Circuit(key, transport, {
      identity: this.identity,
      events: this.circuitEvents,
      logger: this.logger,
    });
    const connection: Connection = { circuit, transport, nameServer, guid, emptySinceMs: undefined };
    this.connections.set(key, connection);
    this.liveCounters.circuitsOpened++;
    // A restarted server (a new GUID at the address) is connected at once.
    const lost = this.recentlyClosed.get(key);
    const holdoff = lost?.guid === guid ? lost.atMs + RECONNECT_HOLDOFF_MS - Date.now() : 0;
    if (holdoff > 0) setTimeout(() => transport.connect(), holdoff).unref();
    else transport.connect();
    this.logger.debug(`Connecting to PVA server ${key}`);
    return connection;
  }

  private receive({ circuit, transport }: Connection, chunk: Buffer): void {
    if (circuit.state === 'closed' || transport.failed) return;
    try {
      circuit.receive(chunk, Date.now());
    } catch (error) {
      // Whatever a server sends, the cost is this circuit: its channels reconnect, the process carries on.
      this.liveCounters.protocolErrors++;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error(`PVA server ${circuit.key} sent invalid data, closing the connection: ${message}`, {
        ...(error instanceof PvaProtocolError ? {} : { stack: (error as Error).stack }),
      });
      transport.fail(`protocol error: ${message}`);
    }
  }

  private onConnectionClosed({ circuit, nameServer, guid, transport }: Connection, reason: string): void {
    const key = circuit.key;
    if (this.connections.get(key)?.circuit === circuit) this.connections.delete(key);
    this.recentlyClosed.set(key, { atMs: Date.now(), guid });
    this.liveCounters.circuitsClosed++;
    this.closedBytesReceived += circuit.bytesReceived;
    if (!this.closed) {
      const channels = circuit.channelCount;
      if (channels > 0) this.lostServers.lost(key, channels);
      this.logger[channels > 0 ? 'warn' : 'info'](`PVA server ${key} disconnected: ${reason}`, { channels });
    }
    circuit.close(reason);
    if (nameServer && !this.closed) {
      const endpoint = { host: transport.host, port: transport.port };
      setTimeout(() => void this.openNameServer(endpoint), NAME_SERVER_RETRY_MS).unref();
    }
  }

  private async openNameServer(endpoint: Endpoint): Promise<void> {
    const [resolved] = await resolveEndpoints([endpoint], (unresolved, error) =>
      this.logger.warn(`Cannot resolve PVA address "${unresolved.host}": ${error.message}`),
    );
    if (this.closed) return;
    if (!resolved) {
      setTimeout(() => void this.openNameServer(endpoint), NAME_SERVER_RETRY_MS).unref();
      return;
    }
    this.connectionTo(`${resolved.host}:${resolved.port}`, resolved.host, resolved.port, true);
  }

  private onServerMessage(circuit: Circuit, message: ServerMessage, pvName: string | undefined): void {
    const text = `PVA server ${circuit.key}${pvName === undefined ? '' : ` ("${pvName}")`}: ${message.text}`;
    const level =
      message.type >= MessageType.error ? 'error' : message.type === MessageType.warning ? 'warn' : 'info';
    this.host.log.log(text, undefined, level);
  }

  /** Once a second: the next searches, liveness of every circuit, circuits left without channels. */
  private tick(): void {
    void this.sendSearches(this.search.tick());
    const now = Date.now();
    this.host.log.flush(now);
    const times = { idleTimeoutMs: this.config.idleTimeoutMs, echoIntervalMs: this.config.echoIntervalMs };
    for (const connection of this.connections.values()) {
      const { circuit, transport } = connection;
      if (circuit.checkLiveness(now, times) === 'dead') {
        this.liveCounters.idleTimeouts++;
        // A hung server (or a cut network): the echoes went unanswered.
        transport.fail(`no answer to echo, no data for ${this.config.idleTimeoutMs / 1000} s`);
      } else if (!connection.nameServer && circuit.channelCount === 0 && circuit.state !== 'connecting') {
        connection.emptySinceMs ??= now;
        if (now - connection.emptySinceMs >= EMPTY_CIRCUIT_LINGER_MS) transport.close('no channels left');
      } else {
        connection.emptySinceMs = undefined;
      }
    }
    for (const [key, { atMs }] of this.recentlyClosed) {
      if (now - atMs > RECONNECT_HOLDOFF_MS) this.recentlyClosed.delete(key);
    }
    this.beacons?.forgetSilent(now);
  }
}
