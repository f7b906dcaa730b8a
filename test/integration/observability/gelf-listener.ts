/**
 * Minimal Graylog stand-ins for tests, on loopback: a GELF UDP listener that reassembles chunks and inflates
 * gzip/zlib payloads, and a GELF TCP listener that splits null-delimited frames. Both hand over decoded JSON.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

export type GelfMessage = Record<string, unknown>;

/** Decoded messages in arrival order, with a way to wait for more. */
class Inbox {
  readonly messages: GelfMessage[] = [];
  #waiters: (() => void)[] = [];

  add(message: GelfMessage): void {
    this.messages.push(message);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Waits until `count` messages have arrived, or one with this short_message; rejects after `timeoutMs`. */
  async waitFor(expected: number | string, timeoutMs = 5000): Promise<GelfMessage[]> {
    const done =
      typeof expected === 'number'
        ? () => this.messages.length >= expected
        : () => this.messages.some((message) => message['short_message'] === expected);
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`expected ${expected} in GELF messages, got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages;
  }
}

function decodePayload(payload: Buffer): GelfMessage {
  const json =
    payload[0] === 0x1f && payload[1] === 0x8b
      ? gunzipSync(payload)
      : payload[0] === 0x78
        ? inflateSync(payload)
        : payload;
  return JSON.parse(json.toString('utf8')) as GelfMessage;
}

export class GelfUdpListener extends Inbox {
  /** Chunks of incomplete messages by message id (hex). */
  readonly #partial = new Map<string, Buffer[]>();
  /** Datagrams received, chunks counted one by one. */
  datagrams = 0;
  compressed = 0;

  private constructor(readonly socket: UdpSocket) {
    super();
    socket.on('message', (datagram) => this.#receive(datagram));
  }

  static async start(): Promise<GelfUdpListener> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new GelfUdpListener(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  #receive(datagram: Buffer): void {
    this.datagrams++;
    if (datagram[0] !== 0x1e || datagram[1] !== 0x0f) {
      this.#accept(datagram);
      return;
    }
    const id = datagram.subarray(2, 10).toString('hex');
    const sequence = datagram[10] ?? 0;
    const count = datagram[11] ?? 0;
    const chunks = this.#partial.get(id) ?? new Array<Buffer>(count);
    chunks[sequence] = datagram.subarray(12);
    this.#partial.set(id, chunks);
    if (chunks.filter((chunk) => chunk !== undefined).length === count) {
      this.#partial.delete(id);
      this.#accept(Buffer.concat(chunks));
    }
  }

  #accept(payload: Buffer): void {
    if (payload[0] !== 0x7b) this.compressed++;
    this.add(decodePayload(payload));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(resolve));
  }
}

export class GelfTcpListener extends Inbox {
  readonly #connections = new Set<TcpSocket>();
  connectionCount = 0;

  private constructor(
    readonly server: Server,
    private readonly paused: boolean,
  ) {
    super();
    server.on('connection', (socket) => this.#serve(socket));
  }

  /** `paused`: accept connections but never read from them (a stuck Graylog). */
  static async start({ port = 0, paused = false } = {}): Promise<GelfTcpListener> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return new GelfTcpListener(server, paused);
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  #serve(socket: TcpSocket): void {
    this.connectionCount++;
    this.#connections.add(socket);
    socket.on('close', () => this.#connections.delete(socket));
    if (this.paused) return;
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (let end = pending.indexOf(0); end !== -1; end = pending.indexOf(0)) {
        this.add(decodePayload(pending.subarray(0, end)));
        pending = pending.subarray(end + 1);
      }
    });
  }

  /** Stops listening and drops every connection (as a crashing Graylog would). */
  async close(): Promise<void> {
    for (const socket of this.#connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
