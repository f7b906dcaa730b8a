/**
 * One client connection to a server (spec §5, §12), without I/O: bytes go in through `receive`, bytes to send
 * come out of `takeOutput`, decoded messages go to a listener. The transport (a TCP socket) lives elsewhere.
 *
 * States: connecting (TCP) → validating (waiting for SET_BYTE_ORDER and CONNECTION_VALIDATION, answered with
 * our credentials) → ready (after CONNECTION_VALIDATED) → closed. All outgoing messages are encoded into one
 * buffer that the transport flushes once per event-loop turn.
 */
import { type FrameHandler, MessageFramer, DEFAULT_MAX_MESSAGE_BYTES } from './framer.js';
import { TypeRegistry } from './introspection.js';
import {
  type CaCredentials,
  type ChannelIds,
  type CreateChannelResponse,
  type MonitorOptions,
  type SearchRequest,
  type SearchResponse,
  type ServerMessage,
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
} from './messages.js';
import {
  AuthMethod,
  CLIENT_RECEIVE_BUFFER_SIZE,
  CLIENT_REGISTRY_MAX_SIZE,
  Command,
  ControlCommand,
  MonitorSubcommand,
  commandName,
} from './protocol.js';
import { PvaProtocolError, WireReader, WireWriter, describeStatus, isSuccess } from './wire.js';
import type { Logger } from '../../logging/logger.js';

export type CircuitState = 'connecting' | 'validating' | 'ready' | 'closed';

/** What a circuit reports to its owner. `reader` arguments are only valid during the call. */
export interface CircuitListener {
  onReady(circuit: Circuit): void;
  onCreateChannel(circuit: Circuit, response: CreateChannelResponse): void;
  onDestroyChannel(circuit: Circuit, ids: ChannelIds): void;
  /** A MONITOR response; the reader is positioned after the ioid and sub-command. */
  onMonitor(circuit: Circuit, ioid: number, subcommand: number, reader: WireReader): void;
  onSearchResponse(circuit: Circuit, response: SearchResponse): void;
  onServerMessage(circuit: Circuit, message: ServerMessage): void;
  /** The peer sent something undecodable or out of protocol; the circuit is closed. */
  onProtocolError(circuit: Circuit, error: Error): void;
}

export interface CircuitOptions {
  readonly credentials: CaCredentials;
  readonly logger: Logger;
  readonly maxMessageBytes?: number;
}

const EMPTY_ECHO = new Uint8Array(0);

export class Circuit implements FrameHandler {
  state: CircuitState = 'connecting';
  /** Types the server defined on this connection (0xFD), discarded with it. */
  readonly rxTypes = new TypeRegistry();
  /** Server protocol version, from its messages. */
  serverVersion = 0;
  /** Authentication method we answered with. */
  authMethod = '';
  lastReceiveMs = 0;
  private lastEchoMs = 0;
  private byteOrderAnnounced = false;
  bytesReceived = 0;
  /** Why the circuit closed, once it has. */
  closeReason: string | undefined;

  private readonly framer: MessageFramer;
  private readonly reader = new WireReader();
  private readonly out = new WireWriter(true);

  constructor(
    /** Server address as "ip:port". */
    readonly key: string,
    private readonly listener: CircuitListener,
    private readonly options: CircuitOptions,
  ) {
    this.framer = new MessageFramer(this, true, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  }

  /** The transport is connected; the server speaks first. */
  connected(nowMs: number): void {
    if (this.state !== 'connecting') return;
    this.state = 'validating';
    this.lastReceiveMs = nowMs;
    this.lastEchoMs = nowMs;
  }

  /** Feeds received bytes. Protocol violations close the circuit and are reported to the listener. */
  receive(chunk: Buffer, nowMs: number): void {
    if (this.state === 'closed') return;
    this.lastReceiveMs = nowMs;
    this.bytesReceived += chunk.length;
    try {
      this.framer.push(chunk);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Bytes to send, if any. */
  takeOutput(): Buffer | undefined {
    return this.out.length === 0 ? undefined : this.out.take();
  }

  get hasOutput(): boolean {
    return this.out.length > 0;
  }

  /** Marks the circuit closed (transport gone or closing); further input is ignored. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    this.framer.stop();
    this.rxTypes.clear();
  }

  /**
   * Liveness: returns false when nothing arrived for the idle timeout (the caller then closes the circuit);
   * otherwise sends an echo every echo interval, as pvxs does, so both sides see traffic on a quiet connection.
   */
  checkAlive(nowMs: number, idleTimeoutMs: number, echoIntervalMs: number): boolean {
    if (this.state === 'closed') return true;
    if (nowMs - this.lastReceiveMs > idleTimeoutMs) return false;
    if (this.state === 'ready' && nowMs - this.lastEchoMs >= echoIntervalMs) {
      this.lastEchoMs = nowMs;
      encodeEcho(this.out, EMPTY_ECHO);
    }
    return true;
  }

  // ---- requests ------------------------------------------------------------------------------------------

  createChannel(cid: number, name: string): void {
    encodeCreateChannel(this.out, cid, name);
  }

  destroyChannel(sid: number, cid: number): void {
    encodeDestroyChannel(this.out, { sid, cid });
  }

  monitorInit(sid: number, ioid: number, options: MonitorOptions): void {
    encodeMonitorInit(this.out, sid, ioid, options);
  }

  monitorStart(sid: number, ioid: number): void {
    encodeMonitorCommand(this.out, sid, ioid, MonitorSubcommand.start);
  }

  monitorAck(sid: number, ioid: number, count: number): void {
    encodeMonitorAck(this.out, sid, ioid, count);
  }

  destroyRequest(sid: number, ioid: number): void {
    encodeRequestIds(this.out, Command.destroyRequest, sid, ioid);
  }

  search(request: SearchRequest): void {
    encodeSearch(this.out, request);
  }

  // ---- FrameHandler --------------------------------------------------------------------------------------

  onControl(command: number, _value: number, littleEndian: boolean): void {
    // The server's byte order for everything we send (spec §2: always honour each header's own flag on input).
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
    version: number,
  ): void {
    this.serverVersion = version;
    const reader = this.reader.reset(bytes, start, end, littleEndian);
    switch (command) {
      case Command.monitor: {
        this.requireReady(command);
        const ioid = reader.u32();
        const subcommand = reader.u8();
        this.listener.onMonitor(this, ioid, subcommand, reader);
        return;
      }
      case Command.connectionValidation:
        this.answerValidation(reader);
        return;
      case Command.connectionValidated:
        this.validated(reader);
        return;
      case Command.createChannel:
        this.requireReady(command);
        this.listener.onCreateChannel(this, decodeCreateChannelResponse(reader));
        return;
      case Command.destroyChannel:
        this.requireReady(command);
        this.listener.onDestroyChannel(this, decodeDestroyChannel(reader));
        return;
      case Command.searchResponse:
        this.listener.onSearchResponse(this, decodeSearchResponse(reader));
        return;
      case Command.message:
        this.listener.onServerMessage(this, decodeServerMessage(reader));
        return;
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

  private answerValidation(reader: WireReader): void {
    if (this.state !== 'validating')
      throw new PvaProtocolError(`unexpected CONNECTION_VALIDATION in state ${this.state}`);
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
      credentials: useCa ? this.options.credentials : null,
    });
  }

  private validated(reader: WireReader): void {
    if (this.state !== 'validating')
      throw new PvaProtocolError(`unexpected CONNECTION_VALIDATED in state ${this.state}`);
    const status = reader.status();
    if (!isSuccess(status)) {
      // pvxs servers then carry on with anonymous rights.
      this.options.logger.warn(`Server ${this.key} refused our credentials (${describeStatus(status)}).`);
    }
    this.state = 'ready';
    this.listener.onReady(this);
  }

  private requireReady(command: number): void {
    if (this.state !== 'ready') {
      throw new PvaProtocolError(
        `${commandName.get(command) ?? command} before the connection was validated`,
      );
    }
  }

  private fail(error: Error): void {
    if (this.state === 'closed') return;
    this.close(`protocol error: ${error.message}`);
    this.listener.onProtocolError(this, error);
  }
}
