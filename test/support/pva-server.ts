/**
 * An in-repo pvAccess server for tests: it behaves like pvxs where that matters (SET_BYTE_ORDER, validation,
 * channels, MONITOR INIT/START/updates with leaf-bit deltas) and can do what real servers will not do on
 * demand: send big-endian, segment messages, cache types with 0xFD/0xFE, destroy channels, finish monitors with
 * an error, enforce pipeline windows, and send garbage and malformed datagrams. Validated against the p4p client (see
 * test/integration/pva/fake-server.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { type Server, type Socket, createServer } from 'node:net';
import { BitSet } from '../../src/epics/pva/bitset.js';
import { MessageFramer } from '../../src/epics/pva/framer.js';
import {
  beginMessage,
  endMessage,
  isLittleEndian,
  readHeader,
  encodeControl,
} from '../../src/epics/pva/header.js';
import {
  type FieldDesc,
  scalarDesc,
  structure,
  type StructureDesc,
  TypeRegistry,
  encodeFieldDesc,
} from '../../src/epics/pva/introspection.js';
import {
  type ClientValidation,
  beginMonitorResponse,
  decodeClientValidation,
  decodeCreateChannel,
  decodeDestroyChannel,
  decodeMonitorRequest,
  decodeSearch,
  encodeCreateChannelResponse,
  encodeDestroyChannel,
  encodeEcho,
  encodeSearchResponse,
  encodeServerValidation,
  encodeStatusMessage,
} from '../../src/epics/pva/messages.js';
import {
  Command,
  ControlCommand,
  FieldDescTag,
  HEADER_SIZE,
  HeaderFlag,
  MonitorSubcommand,
  PVA_MAGIC,
  PVA_VERSION,
  TypeCode,
} from '../../src/epics/pva/protocol.js';
import { type PvData, type PvStructureData } from '../../src/epics/pva/values.js';
import { StructureLayout, encodeDelta } from '../../src/epics/pva/structure.js';
import { OK_STATUS, type PvaStatus, WireReader, WireWriter } from '../../src/epics/pva/wire.js';
import { ntType } from './pva-types.js';

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

interface MonitorState {
  readonly ioid: number;
  readonly pv: FakePv;
  running: boolean;
  pipeline: boolean;
  window: number;
  /** Updates held back by an exhausted pipeline window. */
  readonly backlog: Buffer[];
}

interface ServerChannel {
  readonly cid: number;
  readonly sid: number;
  readonly pv: FakePv;
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
}

export class FakePv {
  value: PvStructureData;
  readonly layout: StructureLayout;
  /** Updates sent by stream() for this PV (to every connection together). */
  streamed = 0;

  constructor(
    private readonly server: FakePvaServer,
    readonly name: string,
    readonly type: StructureDesc,
    initial: PvStructureData,
  ) {
    this.layout = new StructureLayout(type);
    this.value = initial;
  }

  /**
   * Merges `changes` (a partial value: nested objects for sub-structures) and sends a delta to every running
   * monitor with the changed leaves' bits, or with the given bit numbers.
   */
  post(changes: PvStructureData, bits?: readonly number[], overrun: readonly number[] = []): void {
    this.value = merge(this.value, changes) as PvStructureData;
    const changed = new BitSet().assign(bits ?? changedBits(this.layout, changes));
    this.server.sendUpdate(this, changed, new BitSet().assign(overrun));
  }

  /** Ends every monitor of this PV with MONITOR final (0x10) carrying the status. */
  finish(status: PvaStatus = OK_STATUS): void {
    this.server.finishMonitors(this, status);
  }

  /** Sends an unsolicited DESTROY_CHANNEL for every channel of this PV. */
  destroyChannels(): void {
    this.server.destroyChannels(this);
  }
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
  };
  /** While set, nothing is sent to clients (a silent, half-dead server): exercises the idle timeout. */
  silent = false;
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
    for (const connection of this.connections) connection.pumpFlood();
  }

  /** @internal Paths flooded, once flood() was called. */
  floodPaths: readonly string[] | undefined;

  /**
   * Streams updates of NTScalar double PVs (value and timestamp, as QSRV sends them) to every running monitor,
   * round-robin, at about `updatesPerSecond` per connection: a paced load generator for benchmarks. The value
   * sent is the PV's value when streaming started plus its count of updates sent (FakePv.streamed), and the
   * timestamp is the wall clock, so a client can tell what was served and how late it arrived. Updates a
   * congested socket cannot take are not sent and not counted. Returns a stop function.
   */
  stream(updatesPerSecond: number): () => void {
    const started = performance.now();
    let due = 0;
    const timer = setInterval(() => {
      const total = Math.floor(((performance.now() - started) * updatesPerSecond) / 1000);
      // After a stall, at most 20 ms worth at once: a late tick lowers the rate served, it does not burst.
      const count = Math.min(total - due, Math.ceil(updatesPerSecond / 50));
      due = total;
      for (const connection of this.connections) connection.streamUpdates(count);
    }, STREAM_TICK_MS);
    return () => clearInterval(timer);
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
        const malformed = Buffer.from([
          PVA_MAGIC,
          PVA_VERSION,
          HeaderFlag.fromServer,
          Command.searchResponse,
          100,
          0,
          0,
          0,
        ]);
        this.udp?.send(malformed, reply.port, source);
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
    if (this.options.replyAddress === 'zeros') {
      // Replace ::ffff:0.0.0.0 by sixteen zeros (the other spelling of "any").
      bytes.fill(0, HEADER_SIZE + 12 + 4, HEADER_SIZE + 12 + 4 + 16);
    }
    return { bytes, port: request.responsePort };
  }
}

/** The leaves a steady QSRV update of an NTScalar changes: the value and the timestamp. */
const STEADY_UPDATE_PATHS = [
  'value',
  'timeStamp.secondsPastEpoch',
  'timeStamp.nanoseconds',
  'timeStamp.userTag',
] as const;

const STREAM_TICK_MS = 5;
/**
 * The tail of a value + timestamp delta of an NTScalar double, from the end of the message: the double value,
 * timeStamp.secondsPastEpoch (int64), nanoseconds (int32), userTag (int32), the empty overrun bit set (one byte).
 */
const STREAM_VALUE_FROM_END = 25;
const STREAM_SECONDS_FROM_END = 17;
const STREAM_NANOSECONDS_FROM_END = 9;

/** What stream() sends on one connection: each running monitor's update message, patched per update. */
interface StreamPlan {
  readonly monitorCount: number;
  readonly starts: number;
  readonly pvs: readonly FakePv[];
  readonly initial: Float64Array;
  readonly templates: readonly Buffer[];
  cursor: number;
}

class FakeConnection {
  private readonly framer: MessageFramer;
  private readonly reader = new WireReader();
  private readonly rxTypes = new TypeRegistry();
  private readonly txTypes = new Map<FieldDesc, number>();
  private readonly channels = new Map<number, ServerChannel>();
  private readonly monitors = new Map<number, MonitorState>();
  private nextSid = 0x100;
  private readonly littleEndian: boolean;

  constructor(
    private readonly server: FakePvaServer,
    readonly socket: Socket,
  ) {
    this.littleEndian = !server.options.bigEndian;
    this.framer = new MessageFramer(
      {
        onControl: () => undefined,
        onMessage: (command, littleEndian, bytes, start, end) =>
          this.onMessage(command, this.reader.reset(bytes, start, end, littleEndian)),
      },
      false,
    );
    // As IOC servers do: small updates go out at once, not held back by Nagle's algorithm until an ACK.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    const writer = this.writer();
    encodeControl(writer, ControlCommand.setByteOrder, 0, true);
    encodeServerValidation(writer, {
      receiveBufferSize: 0x10000,
      registryMaxSize: 0x7fff,
      authMethods: ['anonymous', 'ca'],
    });
    this.send(writer.take());
  }

  private floodBatch: { buffer: Buffer; updates: number; monitors: number } | undefined;
  private pumping = false;

  /** Keeps the socket full of flood updates (see FakePvaServer.flood). */
  pumpFlood(): void {
    const paths = this.server.floodPaths;
    if (!paths || this.pumping || this.socket.destroyed) return;
    const running = this.runningMonitors();
    if (running.length === 0) return;
    if (this.floodBatch?.monitors !== running.length) {
      const messages = running.map((monitor) => this.encodeLeaves(monitor, paths));
      // About 64 KiB per write.
      const one = Buffer.concat(messages);
      const repeat = Math.max(1, Math.floor(65536 / one.length));
      this.floodBatch = {
        buffer: Buffer.concat(new Array<Buffer>(repeat).fill(one)),
        updates: repeat * messages.length,
        monitors: running.length,
      };
    }
    const batch = this.floodBatch;
    this.pumping = true;
    let writable = true;
    for (let i = 0; i < 16 && writable; i++) {
      writable = this.socket.write(batch.buffer);
      this.server.log.flooded += batch.updates;
    }
    const next = (): void => {
      this.pumping = false;
      this.pumpFlood();
    };
    if (writable) setImmediate(next);
    else this.socket.once('drain', next);
  }

  private streamPlan: StreamPlan | undefined;
  private streamSequence = 0;

  /** Sends `count` stream updates, round-robin over the running monitors (see FakePvaServer.stream). */
  streamUpdates(count: number): void {
    if (count <= 0 || this.socket.destroyed || this.socket.writableLength > 1 << 20) return;
    const plan = this.currentStreamPlan();
    if (plan.pvs.length === 0) return;
    const size = (plan.templates[0] as Buffer).length;
    const batch = Buffer.allocUnsafe(count * size);
    const nowMs = Date.now();
    const seconds = BigInt(Math.floor(nowMs / 1000));
    const millisecondNs = (nowMs % 1000) * 1_000_000;
    for (let i = 0; i < count; i++) {
      const index = plan.cursor;
      plan.cursor = (index + 1) % plan.pvs.length;
      const pv = plan.pvs[index] as FakePv;
      const end = (i + 1) * size;
      (plan.templates[index] as Buffer).copy(batch, i * size);
      pv.streamed++;
      const value = (plan.initial[index] as number) + pv.streamed;
      // Distinct nanoseconds within the millisecond, so no two updates of a PV share a timestamp.
      const nanoseconds = millisecondNs + (this.streamSequence++ % 1_000_000);
      if (this.littleEndian) {
        batch.writeDoubleLE(value, end - STREAM_VALUE_FROM_END);
        batch.writeBigInt64LE(seconds, end - STREAM_SECONDS_FROM_END);
        batch.writeInt32LE(nanoseconds, end - STREAM_NANOSECONDS_FROM_END);
      } else {
        batch.writeDoubleBE(value, end - STREAM_VALUE_FROM_END);
        batch.writeBigInt64BE(seconds, end - STREAM_SECONDS_FROM_END);
        batch.writeInt32BE(nanoseconds, end - STREAM_NANOSECONDS_FROM_END);
      }
    }
    this.send(batch);
  }

  private currentStreamPlan(): StreamPlan {
    const plan = this.streamPlan;
    const starts = this.server.log.monitorStarts;
    if (plan?.monitorCount === this.monitors.size && plan.starts === starts) return plan;
    const running = this.runningMonitors();
    const templates = running.map((monitor) => this.encodeLeaves(monitor, STEADY_UPDATE_PATHS));
    const initial = Float64Array.from(running, (monitor, index) => {
      const value = monitor.pv.value['value'];
      const template = templates[index] as Buffer;
      const at = template.length - STREAM_VALUE_FROM_END;
      const sent = this.littleEndian ? template.readDoubleLE(at) : template.readDoubleBE(at);
      if (typeof value !== 'number' || sent !== value) {
        throw new Error(`stream(): ${monitor.pv.name} is not an NTScalar double`);
      }
      return value;
    });
    this.streamPlan = {
      monitorCount: this.monitors.size,
      starts,
      pvs: running.map((monitor) => monitor.pv),
      initial,
      templates,
      cursor: 0,
    };
    return this.streamPlan;
  }

  sendUpdate(pv: FakePv, changed: BitSet, overrun: BitSet): void {
    for (const monitor of this.monitors.values()) {
      if (monitor.pv !== pv || !monitor.running) continue;
      this.sendMonitorMessage(monitor, this.encodeUpdate(monitor, changed, overrun));
    }
  }

  finishMonitors(pv: FakePv, status: PvaStatus): void {
    for (const monitor of [...this.monitors.values()]) {
      if (monitor.pv !== pv) continue;
      const writer = this.writer();
      const start = beginMonitorResponse(writer, monitor.ioid, MonitorSubcommand.final);
      writer.status(status);
      endMessage(writer, start);
      this.sendApplication(writer.take());
      this.monitors.delete(monitor.ioid);
    }
  }

  destroyChannels(pv: FakePv): void {
    for (const channel of [...this.channels.values()]) {
      if (channel.pv !== pv) continue;
      const writer = this.writer();
      encodeDestroyChannel(writer, { sid: channel.sid, cid: channel.cid }, true);
      this.send(writer.take());
      this.channels.delete(channel.sid);
      for (const [ioid, monitor] of this.monitors) if (monitor.pv === pv) this.monitors.delete(ioid);
    }
  }

  private writer(): WireWriter {
    return new WireWriter(this.littleEndian);
  }

  private send(bytes: Buffer): void {
    if (!this.socket.destroyed && !this.server.silent) this.socket.write(bytes);
  }

  /** Sends one application message, segmented when configured. */
  private sendApplication(message: Buffer): void {
    const segmentSize = this.server.options.segmentSize;
    const payloadSize = message.length - HEADER_SIZE;
    if (!segmentSize || payloadSize <= segmentSize) {
      this.send(message);
      return;
    }
    const command = message[3] as number;
    for (let offset = 0; offset < payloadSize; offset += segmentSize) {
      const last = offset + segmentSize >= payloadSize;
      const segment =
        offset === 0 ? HeaderFlag.segmentFirst : last ? HeaderFlag.segmentLast : HeaderFlag.segmentMiddle;
      const writer = this.writer();
      const start = beginMessage(writer, command, true, segment);
      writer.bytes(
        message.subarray(HEADER_SIZE + offset, HEADER_SIZE + Math.min(payloadSize, offset + segmentSize)),
      );
      endMessage(writer, start);
      if (this.server.options.interleaveControl && offset > 0) {
        encodeControl(writer, ControlCommand.markTotalBytesSent, offset, true);
      }
      this.send(writer.take());
    }
  }

  private sendMonitorMessage(monitor: MonitorState, message: Buffer): void {
    if (monitor.pipeline) {
      if (monitor.window === 0) {
        monitor.backlog.push(message);
        return;
      }
      monitor.window--;
    }
    this.sendApplication(message);
  }

  private runningMonitors(): MonitorState[] {
    return [...this.monitors.values()].filter((monitor) => monitor.running);
  }

  /** An update with the bits of the leaves at these paths (those the PV has). */
  private encodeLeaves(monitor: MonitorState, paths: readonly string[]): Buffer {
    const bits = paths.map((path) => monitor.pv.layout.indexOf(path)).filter((bit) => bit >= 0);
    return this.encodeUpdate(monitor, new BitSet().assign(bits), new BitSet());
  }

  private encodeUpdate(monitor: MonitorState, changed: BitSet, overrun: BitSet): Buffer {
    const writer = this.writer();
    const start = beginMonitorResponse(writer, monitor.ioid, MonitorSubcommand.update);
    encodeDelta(writer, monitor.pv.layout, monitor.pv.value, changed, overrun);
    endMessage(writer, start);
    return writer.take();
  }

  private onMessage(command: number, reader: WireReader): void {
    switch (command) {
      case Command.connectionValidation: {
        this.server.log.validations.push(decodeClientValidation(reader, this.rxTypes));
        const writer = this.writer();
        encodeStatusMessage(writer, Command.connectionValidated, OK_STATUS);
        this.send(writer.take());
        return;
      }
      case Command.echo: {
        this.server.log.echoes++;
        const writer = this.writer();
        encodeEcho(writer, reader.slice(reader.remaining), true);
        this.send(writer.take());
        return;
      }
      case Command.search: {
        const reply = this.server.answerSearch(reader, this.littleEndian);
        if (reply) this.send(reply.bytes);
        return;
      }
      case Command.createChannel:
        this.onCreateChannel(reader);
        return;
      case Command.monitor:
        this.onMonitor(reader);
        return;
      case Command.destroyRequest: {
        this.server.log.destroyRequests++;
        reader.u32();
        this.monitors.delete(reader.u32());
        return;
      }
      case Command.destroyChannel: {
        this.server.log.destroyChannels++;
        const ids = decodeDestroyChannel(reader);
        this.channels.delete(ids.sid);
        const writer = this.writer();
        encodeDestroyChannel(writer, ids, true);
        this.send(writer.take());
        return;
      }
      default:
        return;
    }
  }

  private onCreateChannel(reader: WireReader): void {
    for (const { id: cid, name } of decodeCreateChannel(reader)) {
      this.server.log.createChannels.push(name);
      const pv = this.server.findPv(name);
      const writer = this.writer();
      if (!pv) {
        encodeCreateChannelResponse(writer, {
          cid,
          sid: 0,
          status: { type: 2, message: `no PV ${name}`, callTree: '' },
        });
      } else {
        const sid = this.nextSid++;
        this.channels.set(sid, { cid, sid, pv });
        encodeCreateChannelResponse(writer, { cid, sid, status: OK_STATUS });
      }
      this.send(writer.take());
    }
  }

  private onMonitor(reader: WireReader): void {
    const request = decodeMonitorRequest(reader, this.rxTypes);
    const channel = this.channels.get(request.sid);
    if (request.subcommand & MonitorSubcommand.init) {
      this.server.log.monitorInits++;
      if (!channel) return;
      const pipeline = request.options?.pipeline === true;
      const monitor: MonitorState = {
        ioid: request.ioid,
        pv: channel.pv,
        running: false,
        pipeline,
        window: pipeline ? (request.count ?? 0) : 0,
        backlog: [],
      };
      this.monitors.set(request.ioid, monitor);
      const writer = this.writer();
      const start = beginMonitorResponse(writer, request.ioid, MonitorSubcommand.init);
      writer.status(OK_STATUS);
      this.writeType(writer, channel.pv.type);
      endMessage(writer, start);
      this.sendApplication(writer.take());
      return;
    }
    const monitor = this.monitors.get(request.ioid);
    if (!monitor) return;
    if (request.subcommand & MonitorSubcommand.pipeline) {
      this.server.log.acks.push(request.count ?? 0);
      monitor.window += request.count ?? 0;
      while (monitor.window > 0 && monitor.backlog.length > 0) {
        monitor.window--;
        this.sendApplication(monitor.backlog.shift() as Buffer);
      }
    }
    if (request.subcommand === MonitorSubcommand.start && !monitor.running) {
      monitor.running = true;
      this.server.log.monitorStarts++;
      const layout = monitor.pv.layout;
      const first = this.server.options.firstUpdateWhole
        ? [0]
        : layout.nodes.flatMap((node, index) => (node.type.kind === 'structure' ? [] : [index]));
      this.sendMonitorMessage(monitor, this.encodeUpdate(monitor, new BitSet().assign(first), new BitSet()));
      this.pumpFlood();
    }
  }

  /** A type description, using 0xFD/0xFE for structures and unions when the server caches types. */
  private writeType(writer: WireWriter, type: FieldDesc): void {
    if (!this.server.options.typeCache) {
      encodeFieldDesc(writer, type);
      return;
    }
    switch (type.kind) {
      case 'structure':
      case 'union': {
        const known = this.txTypes.get(type);
        if (known !== undefined) {
          writer.u8(FieldDescTag.cacheReference).u16(known);
          return;
        }
        const id = this.txTypes.size + 1;
        this.txTypes.set(type, id);
        writer.u8(FieldDescTag.cacheDefinition).u16(id);
        writer.u8(type.kind === 'structure' ? TypeCode.structure : TypeCode.union);
        writer.string(type.id).size(type.fields.length);
        for (const member of type.fields) {
          writer.string(member.name);
          this.writeType(writer, member.type);
        }
        return;
      }
      case 'structureArray':
      case 'unionArray':
        writer.u8((type.kind === 'structureArray' ? TypeCode.structure : TypeCode.union) | TypeCode.arrayBit);
        this.writeType(writer, type.element);
        return;
      default:
        encodeFieldDesc(writer, type);
    }
  }
}

/** Bits of the leaves present in a partial value (a present sub-structure object marks its present leaves). */
function changedBits(layout: StructureLayout, changes: PvStructureData): number[] {
  const bits: number[] = [];
  const visit = (index: number, value: PvData): void => {
    const node = layout.node(index);
    if (node.type.kind !== 'structure' || isArrayLike(value)) {
      bits.push(index);
      return;
    }
    for (const { member, index: child } of layout.children(index)) {
      const childValue = (value as PvStructureData)[member.name];
      if (childValue !== undefined) visit(child, childValue);
    }
  };
  visit(0, changes);
  return bits;
}

function isArrayLike(value: PvData): boolean {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

function merge(base: PvData, changes: PvData): PvData {
  if (
    typeof base !== 'object' ||
    typeof changes !== 'object' ||
    base === null ||
    changes === null ||
    isArrayLike(base) ||
    isArrayLike(changes) ||
    base.constructor !== Object ||
    changes.constructor !== Object
  ) {
    return changes;
  }
  const out: Record<string, PvData> = { ...(base as PvStructureData) };
  for (const [key, value] of Object.entries(changes as PvStructureData)) {
    out[key] = key in out ? merge(out[key] as PvData, value) : value;
  }
  return out;
}

/**
 * The benchmarks' load servers (pva-flood-server.ts, pva-stream-server.ts): a server answering searches on
 * `searchPort` with `count` NTScalar doubles with units, named `prefix` + index, each with the value `valueOf(i)`.
 */
export async function startDoublePvServer(
  searchPort: number,
  count: number,
  prefix: string,
  valueOf: (index: number) => number,
): Promise<{ server: FakePvaServer; pvs: FakePv[] }> {
  const type = ntType(scalarDesc.float64, {
    display: structure('display_t', { units: scalarDesc.string, precision: scalarDesc.int32 }),
  });
  const server = await FakePvaServer.start({ searchPort });
  const secondsPastEpoch = BigInt(Math.floor(Date.now() / 1000));
  const pvs = Array.from({ length: count }, (_, i) =>
    server.addPv(`${prefix}${i}`, type, {
      value: valueOf(i),
      alarm: { severity: 0, status: 0, message: 'NO_ALARM' },
      timeStamp: { secondsPastEpoch, nanoseconds: 0, userTag: 0 },
      display: { units: 'mA', precision: 3 },
    }),
  );
  return { server, pvs };
}
