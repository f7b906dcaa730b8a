/**
 * A virtual circuit: the TCP connection to one server, as a state machine without I/O (docs/protocols/pvaccess.md,
 * "Connection handshake" and "Channels"). It writes each request through a `CircuitTransport` as it is made (a
 * socket, which sends what one event-loop turn wrote in one segment, or an array in tests), is fed received bytes
 * through `receive()`, and routes what the server says to the channel it concerns: CREATE_CHANNEL replies by CID,
 * DESTROY_CHANNEL by SID, MONITOR responses by IOID, decoded by the channel's monitor operation. Anything that
 * breaks the protocol throws PvaProtocolError out of `receive()`; the client then closes the circuit.
 *
 * States: connecting (TCP) → validating (waiting for SET_BYTE_ORDER and CONNECTION_VALIDATION, answered with our
 * identity) → ready (after CONNECTION_VALIDATED) → closed. Channels added earlier are created once it is ready.
 */
import type { Logger } from '../../logging/logger.js';
import type { ClientIdentity } from '../common/identity.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type FrameHandler, MessageFramer } from './framer.js';
import { TypeRegistry } from './introspection.js';
import {
  decodeCreateChannelResponse,
  decodeDestroyChannel,
  decodeSearchResponse,
  decodeServerMessage,
  decodeServerValidation,
  encodeClientValidation,
  encodeCreateChannel,
  encodeDestroyChannel,
  encodeEcho,
  encodeMonitorAck,
  encodeMonitorCommand,
  encodeMonitorInit,
  encodeRequestIds,
  encodeSearch,
  type SearchRequest,
  type SearchResponse,
  type ServerMessage,
} from './messages.js';
import type { MonitorOperation } from './monitor.js';
import {
  AuthMethod,
  CLIENT_RECEIVE_BUFFER_SIZE,
  CLIENT_REGISTRY_MAX_SIZE,
  Command,
  commandName,
  ControlCommand,
  MonitorSubcommand,
} from './protocol.js';
import {
  describeStatus,
  isSuccess,
  type PvaStatus,
  PvaProtocolError,
  WireReader,
  WireWriter,
} from './wire.js';

export type CircuitState = 'connecting' | 'validating' | 'ready' | 'closed';

/** The I/O side of a circuit. */
export interface CircuitTransport {
  write(data: Buffer): void;
}

/** What a circuit tells the channels it carries. */
export interface CircuitChannel {
  readonly cid: number;
  readonly name: string;
  /** CREATE_CHANNEL succeeded: the server's id for the channel. */
  onCreated(sid: number): void;
  onCreateFailed(status: PvaStatus): void;
  /** DESTROY_CHANNEL from the server: the channel is gone; the circuit stays. */
  onDestroyed(): void;
  /** The INIT reply of a monitor: its store exists; START has been sent. */
  onMonitorStarted(monitor: MonitorOperation): void;
  /** An update was merged into the monitor's store. */
  onMonitorUpdate(monitor: MonitorOperation): void;
  /** The server ended (or refused) the monitor; the circuit has forgotten it. */
  onMonitorEnded(monitor: MonitorOperation, status: PvaStatus): void;
  /** The circuit is gone; every id on it is void. */
  onCircuitLost(reason: string): void;
}

/** What a circuit tells the client that owns it. */
export interface CircuitEvents {
  /** Validation is complete: requests now go out. */
  onReady(circuit: Circuit): void;
  /** A search response over TCP (name servers). */
  onSearchResponse(circuit: Circuit, response: SearchResponse): void;
  /** A MESSAGE from the server; `pvName` when it concerns a monitor of this circuit. */
  onServerMessage(circuit: Circuit, message: ServerMessage, pvName: string | undefined): void;
}

export interface CircuitOptions {
  readonly identity: ClientIdentity;
  readonly events: CircuitEvents;
  readonly logger: Logger;
  readonly maxMessageBytes?: number;
}

export interface LivenessTimes {
  /** Nothing received this long: the circuit is dead. */
  readonly idleTimeoutMs: number;
  /** An ECHO goes out this often on a ready circuit, so both sides see traffic on a quiet connection. */
  readonly echoIntervalMs: number;
}

interface MonitorRoute {
  readonly channel: CircuitChannel;
  readonly monitor: MonitorOperation;
  readonly sid: number;
}

const EMPTY_ECHO = new Uint8Array(0);

export class Circuit implements FrameHandler {
  state: CircuitState = 'connecting';
  /** Authentication method we answered with. */
  authMethod = '';
  bytesReceived = 0;
  private lastReceiveMs = 0;
  private lastEchoMs = 0;
  private byteOrderAnnounced = false;
  /** Types the server defined on this connection (0xFD), discarded with it. */
  private readonly rxTypes = new TypeRegistry();
  private readonly framer: MessageFramer;
  private readonly reader = new WireReader();
  private readonly out = new WireWriter(true);
  private readonly channels = new Map<number, CircuitChannel>();
  /** CIDs whose CREATE_CHANNEL is unanswered. */
  private readonly awaitingCreate = new Set<number>();
  private readonly channelsBySid = new Map<number, CircuitChannel>();
  private readonly monitors = new Map<number, MonitorRoute>();

  constructor(
    /** Server address as "ip:port". */
    readonly key: string,
    private readonly transport: CircuitTransport,
    private readonly options: CircuitOptions,
  ) {
    this.framer = new MessageFramer(this, true, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** The transport is connected; the server speaks first. */
  connected(nowMs: number): void {
    if (this.state !== 'connecting') return;
    this.state = 'validating';
    this.lastReceiveMs = nowMs;
    this.lastEchoMs = nowMs;
  }

  /** Feeds received bytes. Throws PvaProtocolError when the server breaks the protocol. */
  receive(chunk: Buffer, nowMs: number): void {
    if (this.state === 'closed') return;
    this.lastReceiveMs = nowMs;
    this.bytesReceived += chunk.length;
    this.framer.push(chunk);
  }

  /**
   * Liveness, checked about once a second: 'dead' when nothing arrived for the idle timeout (the caller then
   * closes the circuit); otherwise an ECHO every echo interval, as pvxs sends.
   */
  checkLiveness(nowMs: number, times: LivenessTimes): 'alive' | 'dead' {
    if (this.state === 'closed' || this.state === 'connecting') return 'alive';
    if (nowMs - this.lastReceiveMs > times.idleTimeoutMs) return 'dead';
    if (this.state === 'ready' && nowMs - this.lastEchoMs >= times.echoIntervalMs) {
      this.lastEchoMs = nowMs;
      encodeEcho(this.out, EMPTY_ECHO);
      this.flush();
    }
    return 'alive';
  }

  /** Marks the circuit closed and tells every channel; idempotent. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.framer.stop();
    this.rxTypes.clear();
    const channels = [...this.channels.values()];
    this.channels.clear();
    this.awaitingCreate.clear();
    this.channelsBySid.clear();
    this.monitors.clear();
    for (const channel of channels) channel.onCircuitLost(reason);
  }

  // ---- requests ------------------------------------------------------------------------------------------

  /** Asks the server for the channel, now or once the circuit is ready. */
  addChannel(channel: CircuitChannel): void {
    this.channels.set(channel.cid, channel);
    if (this.state === 'ready') this.createChannel(channel);
  }

  /**
   * Forgets a channel (its monitor must have been stopped first). With `tellServer`, a server that had created it
   * (`sid` known) hears of it; a creation still unanswered is released when its reply comes.
   */
  removeChannel(channel: CircuitChannel, sid: number | undefined, tellServer: boolean): void {
    if (this.channels.get(channel.cid) !== channel) return;
    this.channels.delete(channel.cid);
    if (sid === undefined) return;
    this.channelsBySid.delete(sid);
    if (tellServer && this.state === 'ready') {
      encodeDestroyChannel(this.out, { sid, cid: channel.cid });
      this.flush();
    }
  }

  startMonitor(channel: CircuitChannel, sid: number, monitor: MonitorOperation): void {
    this.monitors.set(monitor.ioid, { channel, monitor, sid });
    encodeMonitorInit(this.out, sid, monitor.ioid, monitor.options);
    this.flush();
  }

  /** Forgets a monitor; with `tellServer`, ends it on the server too (DESTROY_REQUEST). */
  stopMonitor(monitor: MonitorOperation, tellServer: boolean): void {
    const route = this.monitors.get(monitor.ioid);
    if (route?.monitor !== monitor) return;
    this.monitors.delete(monitor.ioid);
    if (!tellServer || this.state !== 'ready') return;
    encodeRequestIds(this.out, Command.destroyRequest, route.sid, monitor.ioid);
    this.flush();
  }

  search(request: SearchRequest): void {
    encodeSearch(this.out, request);
    this.flush();
  }

  private createChannel(channel: CircuitChannel): void {
    this.awaitingCreate.add(channel.cid);
    encodeCreateChannel(this.out, channel.cid, channel.name);
    this.flush();
  }

  private flush(): void {
    if (this.out.length > 0) this.transport.write(this.out.take());
  }

  // ---- FrameHandler --------------------------------------------------------------------------------------

  onControl(command: number, _value: number, littleEndian: boolean): void {
    // The server's byte order for everything we send; on input each header's own flag is honoured.
    if (command === ControlCommand.setByteOrder) {
      this.out.littleEndian = littleEndian;
      this.byteOrderAnnounced = true;
    }
  }

  onMessage(
    command: number,
    littleEndian: boolean,
    bytes: Buffer,
    start: number,
    end: number,
    _version: number,
    retainable: boolean,
  ): void {
    const reader = this.reader.reset(bytes, start, end, littleEndian, retainable);
    switch (command) {
      case Command.monitor:
        this.requireReady(command);
        this.onMonitor(reader);
        return;
      case Command.connectionValidation:
        this.answerValidation(reader);
        return;
      case Command.connectionValidated:
        this.validated(reader);
        return;
      case Command.createChannel:
        this.requireReady(command);
        this.onCreateChannel(reader);
        return;
      case Command.destroyChannel: {
        this.requireReady(command);
        const { sid } = decodeDestroyChannel(reader);
        const channel = this.channelsBySid.get(sid);
        if (!channel) return;
        this.channelsBySid.delete(sid);
        this.channels.delete(channel.cid);
        channel.onDestroyed();
        return;
      }
      case Command.searchResponse:
        this.options.events.onSearchResponse(this, decodeSearchResponse(reader));
        return;
      case Command.message: {
        const message = decodeServerMessage(reader);
        this.options.events.onServerMessage(this, message, this.monitors.get(message.ioid)?.channel.name);
        return;
      }
      default:
        // ECHO replies, beacons and commands of operations we never start: nothing to do.
        this.options.logger.debug(
          `Ignoring ${commandName.get(command) ?? `command 0x${command.toString(16)}`}`,
          {
            server: this.key,
          },
        );
    }
  }

  private onCreateChannel(reader: WireReader): void {
    const response = decodeCreateChannelResponse(reader);
    const channel = this.awaitingCreate.delete(response.cid) ? this.channels.get(response.cid) : undefined;
    if (!channel) {
      // A channel no longer wanted (or never asked for): release it on the server.
      if (isSuccess(response.status)) {
        encodeDestroyChannel(this.out, { sid: response.sid, cid: response.cid });
        this.flush();
      }
      return;
    }
    if (!isSuccess(response.status)) {
      this.channels.delete(channel.cid);
      channel.onCreateFailed(response.status);
      return;
    }
    this.channelsBySid.set(response.sid, channel);
    channel.onCreated(response.sid);
  }

  private onMonitor(reader: WireReader): void {
    const ioid = reader.u32();
    const subcommand = reader.u8();
    const route = this.monitors.get(ioid);
    // Messages for monitors already destroyed are normal in flight.
    if (!route) return;
    const { channel, monitor, sid } = route;
    const event = monitor.receive(subcommand, reader, this.rxTypes);
    switch (event.kind) {
      case 'started':
        encodeMonitorCommand(this.out, sid, ioid, MonitorSubcommand.start);
        this.flush();
        channel.onMonitorStarted(monitor);
        return;
      case 'update': {
        const count = monitor.takeAcknowledgement();
        if (count > 0) {
          encodeMonitorAck(this.out, sid, ioid, count);
          this.flush();
        }
        channel.onMonitorUpdate(monitor);
        return;
      }
      case 'ended':
        this.monitors.delete(ioid);
        if (event.lastUpdate) channel.onMonitorUpdate(monitor);
        channel.onMonitorEnded(monitor, event.status);
        return;
    }
  }

  private answerValidation(reader: WireReader): void {
    if (this.state !== 'validating') {
      throw new PvaProtocolError(`unexpected CONNECTION_VALIDATION in state ${this.state}`);
    }
    const validation = decodeServerValidation(reader);
    // Without SET_BYTE_ORDER (non-conforming server) answer in the order the server used.
    if (!this.byteOrderAnnounced) this.out.littleEndian = reader.littleEndian;
    const useCa = validation.authMethods.includes(AuthMethod.ca);
    this.authMethod = useCa ? AuthMethod.ca : AuthMethod.anonymous;
    encodeClientValidation(this.out, {
      receiveBufferSize: CLIENT_RECEIVE_BUFFER_SIZE,
      registryMaxSize: CLIENT_REGISTRY_MAX_SIZE,
      qos: 0,
      method: this.authMethod,
      credentials: useCa ? this.options.identity : null,
    });
    this.flush();
  }

  private validated(reader: WireReader): void {
    if (this.state !== 'validating') {
      throw new PvaProtocolError(`unexpected CONNECTION_VALIDATED in state ${this.state}`);
    }
    const status = reader.status();
    if (!isSuccess(status)) {
      // pvxs servers then carry on with anonymous rights.
      this.options.logger.warn(`Server ${this.key} refused our credentials (${describeStatus(status)}).`);
    }
    this.state = 'ready';
    for (const channel of this.channels.values()) this.createChannel(channel);
    this.options.events.onReady(this);
  }

  private requireReady(command: number): void {
    if (this.state !== 'ready') {
      throw new PvaProtocolError(
        `${commandName.get(command) ?? command} before the connection was validated`,
      );
    }
  }
}
