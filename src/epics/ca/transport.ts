/**
 * The thin I/O layer: UDP sockets for searches and TCP sockets for circuits. Everything protocol-related lives
 * in the sans-I/O modules; this file only moves bytes.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect, type Socket } from 'node:net';
import type { CircuitTransport } from './circuit.js';
import type { Endpoint } from './config.js';

const SEARCH_SOCKET_RECEIVE_BUFFER = 4 * 1024 * 1024;

/** Opens the UDP socket searches go out from and replies (and repeater-forwarded beacons) come back to. */
export async function openSearchSocket(
  onDatagram: (datagram: Buffer, source: RemoteInfo) => void,
  onError: (error: Error) => void,
): Promise<UdpSocket> {
  const socket = createSocket({ type: 'udp4' });
  socket.on('message', onDatagram);
  await new Promise<void>((resolveBind, rejectBind) => {
    socket.once('error', rejectBind);
    socket.bind(0, () => {
      socket.off('error', rejectBind);
      resolveBind();
    });
  });
  socket.on('error', onError);
  // Only after bind: broadcast destinations (EPICS_CA_AUTO_ADDR_LIST, x.x.x.255 in the list) need it.
  socket.setBroadcast(true);
  try {
    socket.setRecvBufferSize(SEARCH_SOCKET_RECEIVE_BUFFER);
  } catch {
    // The kernel caps the size; the default still works, with more retries under a burst of replies.
  }
  return socket;
}

/** Resolves host names of an address list to IPv4 addresses; unresolvable entries are reported and dropped. */
export async function resolveEndpoints(
  endpoints: readonly Endpoint[],
  onUnresolved: (endpoint: Endpoint, error: Error) => void,
): Promise<Endpoint[]> {
  const resolved = await Promise.all(
    endpoints.map(async (endpoint) => {
      try {
        const { address } = await lookup(endpoint.host, { family: 4 });
        return { host: address, port: endpoint.port };
      } catch (error) {
        onUnresolved(endpoint, error as Error);
        return undefined;
      }
    }),
  );
  return resolved.filter((endpoint): endpoint is Endpoint => endpoint !== undefined);
}

export interface SocketHandlers {
  onConnect(): void;
  onData(chunk: Buffer): void;
  /** Called once, whatever ended the connection. */
  onClose(reason: string): void;
}

/**
 * A TCP connection as a circuit sees it. Writes made during one event-loop turn leave in one segment (thousands
 * of CREATE_CHAN and EVENT_ADD requests after a reconnect go out together).
 */
export class SocketTransport implements CircuitTransport {
  private pending: Buffer[] = [];
  private flushScheduled = false;
  private closeReason: string | undefined;
  private readonly socket: Socket;
  private readonly connectTimer: NodeJS.Timeout;
  /** Settles when the socket has closed. */
  readonly closed: Promise<void>;

  constructor(host: string, port: number, connectTimeoutMs: number, handlers: SocketHandlers) {
    const socket = connect({ host, port, noDelay: true, keepAlive: true });
    this.socket = socket;
    this.connectTimer = setTimeout(
      () => this.fail(`no TCP connection within ${connectTimeoutMs} ms`),
      connectTimeoutMs,
    );
    socket.once('connect', () => {
      clearTimeout(this.connectTimer);
      handlers.onConnect();
    });
    socket.on('data', handlers.onData);
    socket.on('error', (error) => {
      this.closeReason ??= error.message;
    });
    this.closed = new Promise((resolveClosed) =>
      socket.once('close', () => {
        clearTimeout(this.connectTimer);
        handlers.onClose(this.closeReason ?? 'connection closed by the server');
        resolveClosed();
      }),
    );
  }

  /** True once the client decided to drop the connection. */
  get failed(): boolean {
    return this.closeReason !== undefined;
  }

  write(data: Buffer): void {
    this.pending.push(data);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  close(): void {
    this.fail('closed by the client');
  }

  /** Destroys the connection, remembering why; the close handler reports that reason. */
  fail(reason: string): void {
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0 || this.socket.destroyed) return;
    this.socket.write(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
  }
}
