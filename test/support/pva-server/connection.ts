/**
 * One client connection of the fake pvAccess server: validation, echo, searches over TCP, channels, and monitors
 * (INIT, START with every leaf's bit as pvxs sends it, updates, pipeline windows, finals), in the byte order and
 * with the segmentation and type caching the server's options ask for.
 */
import type { Socket } from 'node:net';
import { BitSet } from '../../../src/epics/pva/bitset.js';
import { MessageFramer } from '../../../src/epics/pva/framer.js';
import { encodeControl, endMessage } from '../../../src/epics/pva/header.js';
import { type FieldDesc, TypeRegistry, encodeFieldDesc } from '../../../src/epics/pva/introspection.js';
import {
  beginMonitorResponse,
  decodeClientValidation,
  decodeCreateChannel,
  decodeDestroyChannel,
  decodeMonitorRequest,
  encodeCreateChannelResponse,
  encodeDestroyChannel,
  encodeEcho,
  encodeServerValidation,
  encodeStatusMessage,
} from '../../../src/epics/pva/messages.js';
import { Command, ControlCommand, HEADER_SIZE, MonitorSubcommand } from '../../../src/epics/pva/protocol.js';
import { encodeDelta } from '../../../src/epics/pva/structure.js';
import { OK_STATUS, type PvaStatus, WireReader, WireWriter } from '../../../src/epics/pva/wire.js';
import { CachedTypeWriter, segments } from './faults.js';
import { FloodPump, UpdateStream } from './load.js';
import type { FakePv } from './pv.js';
import type { FakePvaServer } from './server.js';

export interface MonitorState {
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

export class FakeConnection {
  readonly littleEndian: boolean;
  readonly flood: FloodPump;
  readonly stream: UpdateStream;
  private readonly framer: MessageFramer;
  private readonly reader = new WireReader();
  private readonly rxTypes = new TypeRegistry();
  /** Set when the server caches the types it sends. */
  private readonly txTypes: CachedTypeWriter | undefined;
  private readonly channels = new Map<number, ServerChannel>();
  private readonly monitors = new Map<number, MonitorState>();
  private nextSid = 0x100;

  constructor(
    private readonly server: FakePvaServer,
    readonly socket: Socket,
  ) {
    this.littleEndian = !server.options.bigEndian;
    this.txTypes = server.options.typeCache ? new CachedTypeWriter() : undefined;
    this.flood = new FloodPump(this, server);
    this.stream = new UpdateStream(this, server);
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

  /** Monitors in any state. */
  get monitorCount(): number {
    return this.monitors.size;
  }

  runningMonitors(): MonitorState[] {
    return [...this.monitors.values()].filter((monitor) => monitor.running);
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

  /** Writes to the socket, unless it is gone or the server is silent. */
  send(bytes: Buffer): void {
    if (!this.socket.destroyed && !this.server.silent) this.socket.write(bytes);
  }

  /** An update with the bits of the leaves at these paths (those the PV has). */
  encodeLeaves(monitor: MonitorState, paths: readonly string[]): Buffer {
    const bits = paths.map((path) => monitor.pv.layout.indexOf(path)).filter((bit) => bit >= 0);
    return this.encodeUpdate(monitor, new BitSet().assign(bits), new BitSet());
  }

  private writer(): WireWriter {
    return new WireWriter(this.littleEndian);
  }

  /** Sends one application message, segmented when configured. */
  private sendApplication(message: Buffer): void {
    const { segmentSize, interleaveControl } = this.server.options;
    if (!segmentSize || message.length - HEADER_SIZE <= segmentSize) {
      this.send(message);
      return;
    }
    for (const segment of segments(message, segmentSize, interleaveControl === true, () => this.writer())) {
      this.send(segment);
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
      this.flood.pump();
    }
  }

  private writeType(writer: WireWriter, type: FieldDesc): void {
    if (this.txTypes) this.txTypes.write(writer, type);
    else encodeFieldDesc(writer, type);
  }
}
