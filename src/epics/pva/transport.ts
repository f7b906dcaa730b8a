/**
 * The sockets: a TCP connection feeding a Circuit, and the UDP socket for searches. Nothing here knows the
 * protocol beyond handing bytes to the circuit and writing what it produced, coalesced per event-loop turn.
 */
import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { type Socket, connect } from 'node:net';
import type { Circuit } from './circuit.js';

export interface TcpTransportEvents {
  onClose(transport: TcpTransport, reason: string): void;
}

export class TcpTransport {
  private socket: Socket | undefined;
  private flushScheduled = false;
  private closed = false;
  private error: Error | undefined;

  constructor(
    readonly circuit: Circuit,
    readonly host: string,
    readonly port: number,
    private readonly events: TcpTransportEvents,
  ) {}

  connect(): void {
    if (this.socket || this.closed) return;
    const socket = connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.circuit.connected(Date.now());
      this.flush();
    });
    socket.on('data', (chunk: Buffer) => {
      this.circuit.receive(chunk, Date.now());
      this.flush();
    });
    socket.on('error', (error) => {
      this.error = error;
    });
    socket.on('close', () => {
      this.socket = undefined;
      this.finish(
        this.circuit.closeReason ?? (this.error ? this.error.message : 'connection closed by the server'),
      );
    });
  }

  get connecting(): boolean {
    return this.socket?.connecting ?? false;
  }

  /** Sends pending output at the end of this event-loop turn (so a burst of requests is one write). */
  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  flush(): void {
    const socket = this.socket;
    if (!socket || socket.connecting || socket.destroyed) return;
    const output = this.circuit.takeOutput();
    if (output) socket.write(output);
  }

  /** Closes the connection (after writing what is pending); onClose follows. */
  close(reason: string): void {
    this.circuit.close(reason);
    const socket = this.socket;
    if (!socket) {
      this.finish(reason);
      return;
    }
    this.flush();
    socket.destroySoon();
    // A server that does not read must not keep us waiting.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** Closes at once, without flushing (protocol errors, timeouts). */
  abort(reason: string): void {
    this.circuit.close(reason);
    if (this.socket) this.socket.destroy();
    else this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.circuit.close(reason);
    this.events.onClose(this, reason);
  }
}

export interface UdpDatagramHandler {
  (message: Buffer, sourceAddress: string): void;
}

/** The UDP socket searches go out of and replies come back to (an OS-chosen port). */
export class UdpSearchSocket {
  private readonly socket: UdpSocket;
  private readonly bound: Promise<number>;
  private closed = false;

  constructor(onDatagram: UdpDatagramHandler, onError: (error: Error) => void) {
    this.socket = createSocket({ type: 'udp4' });
    this.socket.on('message', (message, remote) => onDatagram(message, remote.address));
    this.socket.on('error', onError);
    this.bound = new Promise((resolveBound, rejectBound) => {
      this.socket.once('error', rejectBound);
      this.socket.bind(0, () => {
        this.socket.off('error', rejectBound);
        this.socket.setBroadcast(true);
        resolveBound(this.socket.address().port);
      });
    });
  }

  /** Resolves with the local port once bound. */
  port(): Promise<number> {
    return this.bound;
  }

  send(datagram: Buffer, host: string, port: number, onError: (error: Error) => void): void {
    if (this.closed) return;
    this.socket.send(datagram, port, host, (error) => {
      if (error) onError(error);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.bound.catch(() => undefined);
    await new Promise<void>((resolveClose) => this.socket.close(() => resolveClose()));
  }
}
