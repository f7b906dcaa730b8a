/**
 * The thin I/O layer both clients share: the UDP socket searches go out of, UDP sockets that listen for server
 * beacons, and TCP sockets for circuits. Everything protocol-related lives in the sans-I/O modules; this file only
 * moves bytes.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv4, type Socket } from 'node:net';
import { isMulticast } from './addresses.js';

const SEARCH_SOCKET_RECEIVE_BUFFER = 4 * 1024 * 1024;

type DatagramHandler = (datagram: Buffer, source: RemoteInfo) => void;

/** Binds `socket` to `address` (all addresses when undefined) and `port` (0: chosen by the OS). */
async function bindUdp(socket: UdpSocket, port: number, address?: string): Promise<void> {
  await new Promise<void>((resolveBind, rejectBind) => {
    socket.once('error', rejectBind);
    socket.bind(port, address, () => {
      socket.off('error', rejectBind);
      resolveBind();
    });
  });
}

/** The UDP socket searches go out from and replies (and repeater-forwarded beacons) come back to. */
export class SearchSocket {
  private closed = false;

  private constructor(
    private readonly socket: UdpSocket,
    /** The local port (chosen by the OS). */
    readonly port: number,
  ) {}

  /** Binds a socket on an OS-chosen port; rejects when it cannot. */
  static async open(onDatagram: DatagramHandler, onError: (error: Error) => void): Promise<SearchSocket> {
    const socket = createSocket({ type: 'udp4' });
    socket.on('message', onDatagram);
    await bindUdp(socket, 0);
    socket.on('error', onError);
    // Only after bind: broadcast destinations (automatic address lists, x.x.x.255 in a list) need it.
    socket.setBroadcast(true);
    try {
      socket.setRecvBufferSize(SEARCH_SOCKET_RECEIVE_BUFFER);
    } catch {
      // The kernel caps the size; the default still works, with more retries under a burst of replies.
    }
    return new SearchSocket(socket, socket.address().port);
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
    await new Promise<void>((resolveClose) => this.socket.close(() => resolveClose()));
  }
}

/**
 * A UDP socket that receives what is sent to one broadcast or multicast address and port, such as server beacons.
 * It shares the port with every other socket of the host (address reuse), each of which gets its own copy of a
 * broadcast or multicast datagram. Bound to that address rather than to all addresses, it never receives a
 * unicast datagram, so it takes none from another socket on the port (a server's, on this host).
 */
export class BroadcastListener {
  private closed = false;

  private constructor(private readonly socket: UdpSocket) {}

  /** Rejects when the address cannot be bound (not a broadcast or multicast address of this host, say). */
  static async open(
    address: string,
    port: number,
    onDatagram: DatagramHandler,
    onError: (error: Error) => void,
  ): Promise<BroadcastListener> {
    if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('message', onDatagram);
    try {
      await bindUdp(socket, port, address);
      if (isMulticast(address)) socket.addMembership(address);
    } catch (error) {
      socket.close();
      throw error;
    }
    socket.on('error', onError);
    return new BroadcastListener(socket);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolveClose) => this.socket.close(() => resolveClose()));
  }
}

export interface SocketHandlers {
  onConnect(): void;
  /** Received bytes; with `reuseReadBuffer` valid only until the handler returns. */
  onData(chunk: Buffer): void;
  /** Called once, whatever ended the connection (also when it never connected). */
  onClose(reason: string): void;
}

/** How long a closing socket may take to send what is pending before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * The buffer every transport with `reuseReadBuffer` reads into (Node's own read size). Reads are handled one at a
 * time, each before the next begins, so one buffer serves all of them: a fast stream of messages then allocates
 * nothing per read, where Node would allocate a new buffer for each.
 */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A TCP connection as a circuit sees it. Writes made during one event-loop turn leave in one segment (thousands
 * of channel and subscription requests after a reconnect go out together); writes before the connection is up
 * wait for it.
 */
export class SocketTransport {
  private socket: Socket | undefined;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  private closeReason: string | undefined;
  private finished = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private resolveClosed: () => void = () => undefined;
  /** Settles when the connection has closed. */
  readonly closed: Promise<void>;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly connectTimeoutMs: number,
    private readonly handlers: SocketHandlers,
    /** Hand onData views of one buffer reused by every read, instead of a new buffer per read. */
    private readonly reuseReadBuffer = false,
  ) {
    this.closed = new Promise((resolveClosed) => (this.resolveClosed = resolveClosed));
  }

  /** True once the connection was closed or failed on this side. */
  get failed(): boolean {
    return this.closeReason !== undefined;
  }

  connect(): void {
    if (this.socket || this.finished) return;
    const onData = this.handlers.onData;
    const socket = connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      keepAlive: true,
      ...(this.reuseReadBuffer && {
        onread: {
          buffer: sharedReadBuffer,
          callback: (length: number, buffer: Uint8Array): boolean => {
            onData((buffer as Buffer).subarray(0, length));
            return true;
          },
        },
      }),
    });
    this.socket = socket;
    this.connectTimer = setTimeout(
      () => this.fail(`no TCP connection within ${this.connectTimeoutMs} ms`),
      this.connectTimeoutMs,
    );
    socket.once('connect', () => {
      clearTimeout(this.connectTimer);
      this.handlers.onConnect();
      this.flush();
    });
    if (!this.reuseReadBuffer) socket.on('data', onData);
    socket.on('error', (error) => {
      this.closeReason ??= error.message;
    });
    socket.once('close', () => this.finish(this.closeReason ?? 'connection closed by the server'));
  }

  write(data: Buffer): void {
    if (this.finished) return;
    this.pending.push(data);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Closes the connection after sending what is pending; a peer that does not read cannot hold it up. */
  close(reason = 'closed by the client'): void {
    this.closeReason ??= reason;
    const socket = this.socket;
    if (!socket) {
      this.finish(reason);
      return;
    }
    this.flush();
    socket.destroySoon();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Destroys the connection at once, remembering why; the close handler reports that reason. */
  fail(reason: string): void {
    this.closeReason ??= reason;
    if (this.socket) this.socket.destroy();
    else this.finish(reason);
  }

  private flush(): void {
    const socket = this.socket;
    const pending = this.pending;
    if (pending.length === 0 || !socket || socket.connecting || socket.destroyed) return;
    this.pending = [];
    socket.write(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
  }

  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.connectTimer);
    this.pending = [];
    this.handlers.onClose(reason);
    this.resolveClosed();
  }
}
