/**
 * The Channel Access client the forwarder uses: subscribe to a PV by name and receive connection events and
 * updates in the protocol-neutral model. One channel per name, shared by all its subscriptions; searches,
 * circuits, reconnection and re-subscription are handled here without any action by the caller.
 */
import type { RemoteInfo } from 'node:dgram';
import { silentLogger, type Logger } from '../../logging/logger.js';
import { RateLimitedLog } from '../../logging/rate-limited.js';
import type { PvProvider, Subscription, SubscriptionListener } from '../../model/update.js';
import { broadcastAddresses, type Endpoint, endpointsText, ipv4FromString } from '../common/addresses.js';
import type { Environment } from '../common/environment.js';
import { type ClientIdentity, defaultIdentity } from '../common/identity.js';
import { LostServers } from '../common/lost-servers.js';
import { resolveEndpoints } from '../common/resolve.js';
import { SearchSocket, SocketTransport } from '../common/transport.js';
import { CaChannel, newCounters, type CaCounters, type ChannelHost } from './channel.js';
import { Circuit, type LivenessTimes, type SearchReplyListener } from './circuit.js';
import { readCaConfig, type CaConfig } from './config.js';
import { CaProtocolError, encodeRepeaterRegister } from './messages.js';
import { NameServerLink, type NameServerHost, type OpenCircuit } from './name-server.js';
import { CaRepeater } from './repeater.js';
import {
  BeaconTracker,
  decodeSearchDatagram,
  packSearchDatagrams,
  type SearchDatagramEvent,
  type SearchReply,
  SearchScheduler,
  type SearchRequest,
} from './search.js';

export interface CaClientOptions {
  /** EPICS_CA_* settings; default `process.env`. */
  readonly env?: Environment;
  readonly logger?: Logger;
  /** Circuit priority 0..99 (each priority is its own circuit per server). */
  readonly priority?: number;
  /** Overrides the message size cap derived from EPICS_CA_MAX_ARRAY_BYTES. */
  readonly maxArrayBytes?: number;
  /** Delay before the second search attempt of a name; doubles per attempt. Default 100 ms. */
  readonly searchInitialDelayMs?: number;
  /** After a circuit loss, its channels search again after a random delay up to this. Default 1 s. */
  readonly reconnectSpreadMs?: number;
  /** Names sent to the server's access security; default the OS user and host name. */
  readonly identity?: ClientIdentity;
}

/** Pacing of searches: at most this many names per tick, ticks this far apart while names are due. */
const SEARCH_NAMES_PER_TICK = 500;
const SEARCH_TICK_MS = 10;
const BOOST_SPREAD_MS = 200;
const MIN_BOOST_INTERVAL_MS = 1000;
const LIVENESS_CHECK_MS = 1000;
const ECHO_TIMEOUT_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;
const REPEATER_CHECK_PERIOD_MS = 5000;
const LOOPBACK = '127.0.0.1';

export class CaClient implements PvProvider, NameServerHost {
  readonly counters: CaCounters = newCounters();
  readonly config: CaConfig;
  private readonly logger: Logger;
  private readonly priority: number;
  private readonly maxArrayBytes: number;
  private readonly reconnectSpreadMs: number;
  private readonly identity: ClientIdentity;
  private readonly liveness: LivenessTimes;
  private readonly channels = new Map<string, CaChannel>();
  private readonly channelsByCid = new Map<number, CaChannel>();
  private readonly circuits = new Map<string, OpenCircuit>();
  private readonly nameServers: NameServerLink[] = [];
  private readonly scheduler: SearchScheduler;
  private readonly beacons = new BeaconTracker();
  private readonly host: ChannelHost;
  private lastId = 0;
  private searchSequence = 0;
  private lastBoostAt = 0;
  private started: Promise<void> | undefined;
  private ioReady = false;
  private closed = false;
  private searchSocket: SearchSocket | undefined;
  private searchDestinations: Endpoint[] = [];
  private searchTimer: NodeJS.Timeout | undefined;
  private searchTimerDue = 0;
  private livenessTimer: NodeJS.Timeout | undefined;
  /** Their return is logged. */
  private readonly lostServers = new LostServers();
  private repeaterTimer: NodeJS.Timeout | undefined;
  private repeater: CaRepeater | undefined;
  private repeaterConfirmed = false;
  /** Circuits' sockets still open, for close() to wait for. */
  private readonly transports = new Set<SocketTransport>();
  /** Anyone can send datagrams to the search socket, as fast as they like: one line now and then. */
  private readonly badDatagramLog: RateLimitedLog;

  constructor(options: CaClientOptions = {}) {
    this.config = readCaConfig(options.env ?? process.env);
    this.logger = options.logger ?? silentLogger;
    this.badDatagramLog = new RateLimitedLog(this.logger, 'warn');
    this.priority = options.priority ?? 0;
    this.maxArrayBytes = options.maxArrayBytes ?? this.config.maxArrayBytes;
    this.reconnectSpreadMs = options.reconnectSpreadMs ?? 1000;
    this.identity = options.identity ?? defaultIdentity();
    const idleMs = this.config.connectionTimeoutMs;
    this.liveness = {
      idleMs,
      echoTimeoutMs: ECHO_TIMEOUT_MS,
      deadMs: Math.max(2 * idleMs, idleMs + 2 * ECHO_TIMEOUT_MS),
    };
    this.scheduler = new SearchScheduler({
      initialDelayMs: options.searchInitialDelayMs ?? 100,
      maxPeriodMs: this.config.maxSearchPeriodMs,
      boostSpreadMs: BOOST_SPREAD_MS,
    });
    for (const warning of this.config.warnings) this.logger.warn(`CA configuration: ${warning}`);
    this.host = {
      logger: this.logger,
      counters: this.counters,
      nextId: () => (this.lastId = (this.lastId + 1) >>> 0),
      startSearch: (channel, delayMs) => {
        this.channelsByCid.set(channel.cid, channel);
        this.scheduler.add(channel.cid, channel.name, Date.now(), delayMs);
        this.armSearchTimer();
      },
      stopSearch: (channel) => {
        this.channelsByCid.delete(channel.cid);
        this.scheduler.remove(channel.cid);
      },
      reconnectDelayMs: () => Math.random() * this.reconnectSpreadMs,
      forget: (channel) => {
        if (this.channels.get(channel.name) === channel) this.channels.delete(channel.name);
      },
    };
  }

  subscribe(pvName: string, listener: SubscriptionListener): Subscription {
    if (this.closed) throw new Error('the CA client is closed');
    if (pvName.length === 0) throw new Error('a PV name must not be empty');
    this.start();
    let channel = this.channels.get(pvName);
    if (!channel) {
      channel = new CaChannel(pvName, this.host);
      this.channels.set(pvName, channel);
    }
    return channel.addListener(listener);
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

  /** Whether a CA repeater (another process's or this client's own) forwards beacons to this client. */
  get receivesBeacons(): boolean {
    return this.repeaterConfirmed;
  }

  /** Channels still waiting for a search reply. */
  get searchingChannelCount(): number {
    return this.scheduler.pendingCount;
  }

  get circuitCount(): number {
    return this.circuits.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const channel of [...this.channels.values()]) channel.close();
    clearTimeout(this.searchTimer);
    clearInterval(this.livenessTimer);
    clearInterval(this.repeaterTimer);
    await this.started?.catch(() => undefined);
    await this.repeater?.close();
    for (const { transport } of this.circuits.values()) transport.close();
    for (const nameServer of this.nameServers) nameServer.stop();
    await Promise.all([
      this.searchSocket?.close(),
      ...[...this.transports].map((transport) => transport.closed),
    ]);
  }

  private start(): void {
    this.started ??= this.startIo().catch((error: unknown) => {
      this.logger.error('CA client could not open its UDP socket; only name servers can resolve PVs', {
        error: String(error),
      });
    });
  }

  private async startIo(): Promise<void> {
    const nameServers = await resolveEndpoints(this.config.nameServers, (endpoint, error) =>
      this.logger.error('CA name server address does not resolve', {
        host: endpoint.host,
        error: error.message,
      }),
    );
    if (this.closed) return;
    for (const endpoint of nameServers) this.nameServers.push(new NameServerLink(this, endpoint));
    this.livenessTimer = setInterval(() => this.checkLiveness(), LIVENESS_CHECK_MS);
    try {
      const socket = await SearchSocket.open(
        (datagram, source) => this.onDatagram(datagram, source),
        (error) => this.logger.warn('CA search socket error', { error: error.message }),
      );
      if (this.closed) {
        await socket.close();
        return;
      }
      this.searchSocket = socket;
      const listed = await resolveEndpoints(this.config.addressList, (endpoint, error) =>
        this.logger.error('CA address list entry does not resolve', {
          host: endpoint.host,
          error: error.message,
        }),
      );
      const automatic = this.config.autoAddressList
        ? broadcastAddresses().map((host) => ({ host, port: this.config.serverPort }))
        : [];
      this.searchDestinations = [...listed, ...automatic];
      this.logger.info(
        `CA searches ${endpointsText(this.searchDestinations)} (EPICS_CA_AUTO_ADDR_LIST ` +
          `${this.config.autoAddressList ? 'YES' : 'NO'}); name servers: ${endpointsText(nameServers)}`,
      );
      if (this.searchDestinations.length === 0 && nameServers.length === 0) {
        this.logger.warn(
          'CA has no search destinations (EPICS_CA_ADDR_LIST empty, EPICS_CA_AUTO_ADDR_LIST=NO)',
        );
      }
      await this.registerWithRepeater();
      this.repeaterTimer = setInterval(() => void this.registerWithRepeater(), REPEATER_CHECK_PERIOD_MS);
    } finally {
      this.ioReady = !this.closed;
      this.armSearchTimer();
    }
  }

  /**
   * Beacons reach this client through the CA repeater, which forwards them to registered sockets. When no
   * repeater holds the port, this client runs one (as libca does); registrations are renewed periodically, since
   * a restarted repeater forgets its clients.
   */
  private async registerWithRepeater(): Promise<void> {
    if (!this.repeater && !this.closed) {
      this.repeater = await CaRepeater.open(this.config.repeaterPort, this.logger);
      if (this.closed) await this.repeater?.close();
    }
    if (this.closed) return;
    const message = encodeRepeaterRegister(ipv4FromString(LOOPBACK) as number);
    this.searchSocket?.send(message, LOOPBACK, this.config.repeaterPort, (error) =>
      this.logger.debug('CA repeater registration failed', { error: error.message }),
    );
  }

  private armSearchTimer(): void {
    if (!this.ioReady || this.closed) return;
    const next = this.scheduler.nextDue();
    if (next === undefined) return;
    if (this.searchTimer && this.searchTimerDue <= next) return;
    clearTimeout(this.searchTimer);
    this.searchTimerDue = next;
    this.searchTimer = setTimeout(() => this.searchTick(), Math.max(0, next - Date.now()));
  }

  private searchTick(): void {
    this.searchTimer = undefined;
    if (this.closed) return;
    const now = Date.now();
    const due = this.scheduler.takeDue(now, SEARCH_NAMES_PER_TICK);
    if (due.length > 0) this.sendSearches(due);
    const next = this.scheduler.nextDue();
    if (next !== undefined && next <= now) {
      // More names are due: pace them instead of flooding the network and the servers' receive buffers.
      this.searchTimerDue = now + SEARCH_TICK_MS;
      this.searchTimer = setTimeout(() => this.searchTick(), SEARCH_TICK_MS);
    } else {
      this.armSearchTimer();
    }
  }

  private sendSearches(requests: readonly SearchRequest[]): void {
    const socket = this.searchSocket;
    if (socket && this.searchDestinations.length > 0) {
      const datagrams = packSearchDatagrams(requests, this.searchSequence);
      this.searchSequence = (this.searchSequence + datagrams.length) >>> 0;
      for (const datagram of datagrams) {
        for (const destination of this.searchDestinations) {
          socket.send(datagram, destination.host, destination.port, (error) =>
            this.logger.debug('CA search datagram not sent', { to: destination.host, error: error.message }),
          );
          this.counters.searchDatagramsSent++;
        }
      }
    }
    for (const nameServer of this.nameServers) nameServer.search(requests);
  }

  private onDatagram(datagram: Buffer, source: RemoteInfo): void {
    let events: SearchDatagramEvent[];
    try {
      events = decodeSearchDatagram(datagram, source.address, this.config.serverPort);
    } catch (error) {
      this.counters.badDatagrams++;
      this.badDatagramLog.log(
        `Ignoring a malformed CA datagram from ${source.address}:${source.port}: ${(error as Error).message}`,
      );
      return;
    }
    for (const event of events) {
      if (event.kind === 'searchReply') this.onSearchReply(event);
      else if (event.kind === 'beacon') this.onBeacon(event.address, event.port, event.sequence);
      else {
        if (!this.repeaterConfirmed) this.logger.debug('CA repeater confirmed the registration');
        this.repeaterConfirmed = true;
      }
    }
  }

  /** @internal A search reply from UDP or a name server. */
  onSearchReply({ cid, address, port, minor }: SearchReply): void {
    this.counters.searchRepliesReceived++;
    const channel = this.channelsByCid.get(cid);
    if (!channel) return;
    const key = `${address}:${port}`;
    if (channel.state !== 'searching') {
      const current = channel.serverAddress;
      if (current !== undefined && current !== key) {
        this.counters.duplicateSearchReplies++;
        this.logger.warn('CA PV is served by more than one server; keeping the first', {
          pv: channel.name,
          kept: current,
          ignored: key,
        });
      }
      return;
    }
    this.scheduler.remove(cid);
    channel.connectVia(this.circuitFor(address, port, minor));
  }

  private circuitFor(address: string, port: number, serverMinor: number): Circuit {
    const key = `${address}:${port}`;
    const existing = this.circuits.get(key);
    if (existing && !existing.circuit.isClosed) return existing.circuit;
    const open = this.openCircuit(address, port, serverMinor, undefined, () => {
      if (this.circuits.get(key) === open) this.circuits.delete(key);
    });
    this.circuits.set(key, open);
    return open.circuit;
  }

  /** @internal Opens a TCP circuit; `onClosed` runs after its channels were told. */
  openCircuit(
    address: string,
    port: number,
    serverMinor: number,
    nameServer: SearchReplyListener | undefined,
    onClosed: () => void,
  ): OpenCircuit {
    this.counters.circuitsOpened++;
    const transport: SocketTransport = new SocketTransport(address, port, CONNECT_TIMEOUT_MS, {
      onConnect: () => {
        const lost = this.lostServers.returned(circuit.key);
        if (lost === undefined) this.logger.debug('CA circuit connected', { server: circuit.key });
        else {
          this.logger.info(`CA server ${circuit.key} is back; its channels reconnect`, { channels: lost });
        }
      },
      onData: (chunk) => this.receive(circuit, transport, chunk),
      onClose: (reason) => {
        this.counters.circuitsClosed++;
        if (circuit.channelCount > 0 && !this.closed)
          this.lostServers.lost(circuit.key, circuit.channelCount);
        if (circuit.channelCount > 0 || nameServer) {
          this.logger.warn('CA circuit closed', {
            server: circuit.key,
            reason,
            channels: circuit.channelCount,
          });
        }
        this.transports.delete(transport);
        circuit.close(reason);
        onClosed();
      },
    });
    this.transports.add(transport);
    const circuit: Circuit = new Circuit(address, port, transport, {
      serverMinor,
      maxPayloadBytes: this.maxArrayBytes,
      now: Date.now(),
      priority: this.priority,
      identity: this.identity,
      searchReplies: nameServer,
    });
    transport.connect();
    return { circuit, transport };
  }

  private receive(circuit: Circuit, transport: SocketTransport, chunk: Buffer): void {
    if (circuit.isClosed || transport.failed) return;
    this.counters.bytesReceived += chunk.length;
    try {
      circuit.receive(chunk);
    } catch (error) {
      // Whatever a server sends, the cost is this circuit: its channels reconnect, the process carries on.
      this.counters.protocolErrors++;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error('CA server sent an invalid message; closing the circuit', {
        server: circuit.key,
        error: message,
        ...(error instanceof CaProtocolError ? {} : { stack: (error as Error).stack }),
      });
      transport.fail(`protocol error: ${message}`);
    }
  }

  private onBeacon(address: string, port: number, sequence: number): void {
    const key = `${address}:${port}`;
    this.circuits.get(key)?.circuit.noteBeacon();
    const now = Date.now();
    if (!this.beacons.observe(key, sequence, now)) return;
    this.counters.beaconAnomalies++;
    if (this.scheduler.pendingCount === 0 || now - this.lastBoostAt < MIN_BOOST_INTERVAL_MS) return;
    this.lastBoostAt = now;
    this.logger.debug('CA beacon anomaly; searching again for unresolved PVs', { server: key });
    this.boostSearches();
  }

  /** @internal Searches every unresolved name again soon. */
  boostSearches(): void {
    this.scheduler.boost(Date.now());
    this.armSearchTimer();
  }

  private checkLiveness(): void {
    const now = Date.now();
    const links = [
      ...this.circuits.values(),
      ...this.nameServers.flatMap((nameServer) => nameServer.openCircuit ?? []),
    ];
    for (const { circuit, transport } of links) {
      if (circuit.checkLiveness(now, this.liveness) !== 'dead') continue;
      this.counters.circuitsDroppedForSilence++;
      // A hung server (or a cut network): an echo went unanswered.
      transport.fail(`no answer to echo, no traffic for ${this.liveness.deadMs / 1000} s`);
    }
  }

  /** @internal */
  get isClosed(): boolean {
    return this.closed;
  }
}
