/**
 * An in-repo pvAccess server for tests: it behaves like pvxs where that matters (SET_BYTE_ORDER, validation,
 * channels, MONITOR INIT/START/updates with leaf-bit deltas) and can do what real servers will not do on
 * demand: send big-endian, segment messages, cache types with 0xFD/0xFE, destroy channels, finish monitors with
 * an error, enforce pipeline windows, and send garbage and malformed datagrams. Validated against the p4p client (see
 * test/integration/pva/fake-server.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { type Server, createServer } from 'node:net';
import type { BitSet } from '../../../src/epics/pva/bitset.js';
import { isLittleEndian, readHeader } from '../../../src/epics/pva/header.js';
import type { StructureDesc } from '../../../src/epics/pva/introspection.js';
import {
  type ClientValidation,
  decodeSearch,
  encodeSearchResponse,
} from '../../../src/epics/pva/messages.js';
import { Command, HEADER_SIZE } from '../../../src/epics/pva/protocol.js';
import type { PvStructureData } from '../../../src/epics/pva/values.js';
import { type PvaStatus, WireReader, WireWriter } from '../../../src/epics/pva/wire.js';
import { FakeConnection } from './connection.js';
import { MALFORMED_SEARCH_RESPONSE, spellAnyAsZeros } from './faults.js';
import { STEADY_UPDATE_PATHS, paceUpdates } from './load.js';
import { FakePv } from './pv.js';

export interface FakePvaServerOptions {
  /** Byte order of everything the server sends over TCP (announced by SET_BYTE_ORDER). */
  readonly bigEndian?: boolean;
  /** Split application messages whose payload exceeds this many bytes into segments. */
  readonly segmentSize?: number;
  /** Put a control message between segments (allowed by the protocol). */
  readonly interleaveControl?: boolean;
  /** Describe structures and unions with 0xFD definitions on first use and 0xFE references after. */
  readonly typeCache?: boolean;
  /** The first update after START sets bit 0 (whole structure) instead of every leaf bit as pvxs does. */
  readonly firstUpdateWhole?: boolean;
  /** Search reply server address: "any" as sixteen zeros, as ::ffff:0.0.0.0, or this explicit IPv4. */
  readonly replyAddress?: 'zeros' | 'mapped-any' | string;
  /** Port for UDP searches (0 = none). */
  readonly searchPort?: number;
  /** Send a malformed datagram (a header announcing more than follows) before each search reply. */
  readonly malformedDatagramBeforeReplies?: boolean;
}

/** What the server saw from clients, for assertions. */
export interface FakeServerLog {
  validations: ClientValidation[];
  searches: number;
  createChannels: string[];
  monitorInits: number;
  monitorStarts: number;
  acks: number[];
  destroyRequests: number;
  destroyChannels: number;
  echoes: number;
  /** Updates sent by flood(). */
  flooded: number;
  /** Updates stream() did not send because a client's socket was congested (the client did not keep up). */
  streamSkipped: number;
}

export class FakePvaServer {
  readonly guid = randomBytes(12).toString('hex');
  readonly log: FakeServerLog = {
    validations: [],
    searches: 0,
    createChannels: [],
    monitorInits: 0,
    monitorStarts: 0,
    acks: [],
    destroyRequests: 0,
    destroyChannels: 0,
    echoes: 0,
    flooded: 0,
    streamSkipped: 0,
  };
  /** While set, nothing is sent to clients (a silent, half-dead server): exercises the idle timeout. */
  silent = false;
  /** @internal Paths flooded, once flood() was called. */
  floodPaths: readonly string[] | undefined;
  private closed = false;
  private readonly pvs = new Map<string, FakePv>();
  private readonly connections = new Set<FakeConnection>();
  private tcp: Server | undefined;
  private udp: UdpSocket | undefined;
  private tcpPort = 0;

  private constructor(readonly options: FakePvaServerOptions) {}

  static async start(options: FakePvaServerOptions = {}, tcpPort = 0): Promise<FakePvaServer> {
    const server = new FakePvaServer(options);
    await server.listen(tcpPort);
    return server;
  }

  get port(): number {
    return this.tcpPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  addPv(name: string, type: StructureDesc, initial: PvStructureData): FakePv {
    const pv = new FakePv(this, name, type, initial);
    this.pvs.set(name, pv);
    return pv;
  }

  removePv(name: string): void {
    this.pvs.delete(name);
  }

  /**
   * Sends the given delta (default: the value and the timestamp leaves, as a steady QSRV update) to every
   * running monitor, over and over, as fast as each client reads: a load generator for benchmarks. Monitors
   * started later join in.
   */
  flood(bitsByPath: readonly string[] = STEADY_UPDATE_PATHS): void {
    this.floodPaths = bitsByPath;
    for (const connection of this.connections) connection.flood.pump();
  }

  /**
   * Streams updates to every running monitor, round-robin, at about `updatesPerSecond` per connection: a paced load
   * generator for benchmarks. NTScalar and NTScalarArray double PVs get value and timestamp updates, as QSRV sends
   * them; NTNDArray PVs get whole frames, as p4p posts them. Each update carries its PV's count: the value (an
   * array's first element; an NTNDArray's uniqueId) when streaming started plus its count of updates sent
   * (FakePv.streamed), and the timestamp is the wall clock, so a client can tell what was served and how late it
   * arrived. Updates a congested socket cannot take are not sent, only counted (log.streamSkipped). Returns a stop
   * function.
   */
  stream(updatesPerSecond: number): () => void {
    return paceUpdates(updatesPerSecond, (count) => {
      for (const connection of this.connections) connection.stream.send(count);
    });
  }

  /** Writes raw bytes to every client connection. */
  sendRaw(bytes: Uint8Array): void {
    for (const connection of this.connections) connection.socket.write(bytes);
  }

  /** Drops every client connection abruptly. */
  dropConnections(): void {
    for (const connection of this.connections) connection.socket.destroy();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropConnections();
    await Promise.all([
      new Promise<void>((resolveClose) => (this.tcp ? this.tcp.close(() => resolveClose()) : resolveClose())),
      new Promise<void>((resolveClose) => (this.udp ? this.udp.close(() => resolveClose()) : resolveClose())),
    ]);
  }

  /** @internal */
  sendUpdate(pv: FakePv, changed: BitSet, overrun: BitSet): void {
    for (const connection of this.connections) connection.sendUpdate(pv, changed, overrun);
  }

  /** @internal */
  finishMonitors(pv: FakePv, status: PvaStatus): void {
    for (const connection of this.connections) connection.finishMonitors(pv, status);
  }

  /** @internal */
  destroyChannels(pv: FakePv): void {
    for (const connection of this.connections) connection.destroyChannels(pv);
  }

  /** @internal */
  findPv(name: string): FakePv | undefined {
    return this.pvs.get(name);
  }

  /** @internal */
  searchResponseAddress(): string | null {
    const address = this.options.replyAddress ?? 'mapped-any';
    return address === 'zeros' || address === 'mapped-any' ? null : address;
  }

  private async listen(tcpPort: number): Promise<void> {
    const tcp = createServer((socket) => {
      const connection = new FakeConnection(this, socket);
      this.connections.add(connection);
      socket.on('close', () => this.connections.delete(connection));
      socket.on('error', () => undefined);
    });
    this.tcp = tcp;
    await new Promise<void>((resolveListen, rejectListen) => {
      tcp.once('error', rejectListen);
      tcp.listen(tcpPort, '127.0.0.1', () => resolveListen());
    });
    this.tcpPort = (tcp.address() as { port: number }).port;
    if (this.options.searchPort) {
      const udp = createSocket({ type: 'udp4', reuseAddr: true });
      this.udp = udp;
      udp.on('message', (datagram, remote) => this.onSearchDatagram(datagram, remote.address));
      await new Promise<void>((resolveBind) =>
        udp.bind(this.options.searchPort, '127.0.0.1', () => resolveBind()),
      );
    }
  }

  private onSearchDatagram(datagram: Buffer, source: string): void {
    try {
      const header = readHeader(datagram, 0, false);
      if (header.command !== Command.search) return;
      const reader = new WireReader().reset(
        datagram,
        HEADER_SIZE,
        HEADER_SIZE + header.size,
        isLittleEndian(header.flags),
      );
      const reply = this.answerSearch(reader, false);
      if (!reply) return;
      if (this.options.malformedDatagramBeforeReplies) {
        this.udp?.send(MALFORMED_SEARCH_RESPONSE, reply.port, source);
      }
      this.udp?.send(reply.bytes, reply.port, source);
    } catch {
      // Not a search: ignore, as servers do.
    }
  }

  /** @internal Builds a SEARCH_RESPONSE for a SEARCH (UDP, or TCP when acting as a name server). */
  answerSearch(reader: WireReader, littleEndian: boolean): { bytes: Buffer; port: number } | undefined {
    const request = decodeSearch(reader);
    this.log.searches++;
    const found = request.channels
      .filter((channel) => this.pvs.has(channel.name))
      .map((channel) => channel.id);
    if (found.length === 0) return undefined;
    const writer = new WireWriter(littleEndian);
    encodeSearchResponse(writer, {
      guid: this.guid,
      sequenceId: request.sequenceId,
      serverAddress: this.searchResponseAddress(),
      serverPort: this.tcpPort,
      protocol: 'tcp',
      found: true,
      channelIds: found,
    });
    const bytes = writer.take();
    if (this.options.replyAddress === 'zeros') spellAnyAsZeros(bytes);
    return { bytes, port: request.responsePort };
  }
}
