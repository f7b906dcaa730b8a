/**
 * A winston transport that sends every record to Graylog as GELF, over UDP (default) or TCP. It never blocks
 * the caller and never throws: when Graylog is unreachable, records are dropped and counted, and the problem is
 * reported (at most once a minute) to `problemLogger`.
 *
 * - UDP: the host name is resolved once, then a connected socket sends one datagram per record (gzipped and
 *   chunked when large, see gelf.ts). Send errors are counted and otherwise ignored.
 * - TCP: null-byte framed JSON on one connection, re-established after a delay when lost. Records logged while
 *   disconnected wait in a bounded queue; while connected, records beyond a bounded socket buffer are dropped.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { createConnection, type Socket as TcpSocket } from 'node:net';
import { hostname } from 'node:os';
import winston from 'winston';
import type { HostPort } from '../util/host-port.js';
import { encodeGelf, gelfTcpFrame, gelfUdpDatagrams } from './gelf.js';
import { loggedAt, messageOf, metaOf, type LogRecord } from './log-format.js';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limited.js';

export type GelfProtocol = 'udp' | 'tcp';

/** Where Graylog listens; `protocol` defaults to UDP. */
export interface GraylogAddress extends HostPort {
  readonly protocol?: GelfProtocol;
}

const GRAYLOG_ADDRESS = /^(?:(udp|tcp):)?(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/i;

/**
 * Parses `[udp:|tcp:]host:port` (IPv6 hosts in brackets: `tcp:[::1]:12201`). Throws a RangeError saying what
 * is wrong.
 */
export function parseGraylogAddress(text: string): GraylogAddress {
  const match = GRAYLOG_ADDRESS.exec(text.trim());
  if (match === null) throw new RangeError(`'${text}' is not [udp:|tcp:]host:port`);
  const [, protocol, ipv6Host, host, portText] = match;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`'${text}' has port ${portText ?? ''}, not 1-65535`);
  }
  return {
    host: ipv6Host ?? host ?? '',
    port,
    protocol: protocol?.toLowerCase() === 'tcp' ? 'tcp' : 'udp',
  };
}

/** What happened to the records handed to the transport. */
export interface GelfStats {
  /** Records handed to the socket (for UDP: not necessarily received). */
  readonly sent: number;
  /** Records never handed to the socket: Graylog unresolvable or disconnected with a full queue, or too big. */
  readonly dropped: number;
  /** Socket-level failures (UDP send errors such as ICMP port unreachable, TCP connection errors). */
  readonly errors: number;
}

export interface GelfTransportOptions {
  readonly address: GraylogAddress;
  /** Sent as `_service_id` with every record. */
  readonly serviceId: string;
  /** The GELF `host`; default: this machine's host name. */
  readonly hostName?: string;
  /** Where trouble reaching Graylog is reported (warn), at most once a minute. */
  readonly problemLogger?: Logger;
}

/** The `_logger` field, naming the program in a Graylog shared by many. */
export const GELF_LOGGER_NAME = 'forwarder';
/** Records waiting for the address lookup (UDP) or a connection (TCP); beyond that they are dropped. */
const MAX_QUEUED_RECORDS = 1000;
/** Bytes a TCP socket may hold unsent before new records are dropped instead of buffered. */
const MAX_TCP_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Wait before another address lookup or TCP connection attempt after a failure. */
const RETRY_DELAY_MS = 2000;
const PROBLEM_REPORT_INTERVAL_MS = 60_000;

/** winston's typings call the base class `transport`; at run time it is exported as `Transport`. */
const TransportBase = (
  winston as unknown as {
    Transport: new (options?: winston.transport.TransportStreamOptions) => winston.transport;
  }
).Transport;

interface Counters {
  sent: number;
  dropped: number;
  errors: number;
}

/** Keeps the counters and reports failures, rate-limited. */
class ProblemReporter {
  readonly counters: Counters = { sent: 0, dropped: 0, errors: 0 };
  readonly #log: RateLimitedLog | undefined;

  constructor(
    private readonly destination: string,
    problemLogger: Logger | undefined,
  ) {
    this.#log = problemLogger && new RateLimitedLog(problemLogger, 'warn', PROBLEM_REPORT_INTERVAL_MS);
  }

  problem(what: string, error?: Error): void {
    const { sent, dropped, errors } = this.counters;
    this.#log?.log(
      `Graylog at ${this.destination}: ${what}${error === undefined ? '' : `: ${error.message}`} ` +
        `(so far ${sent} sent, ${dropped} dropped, ${errors} errors; reported at most once a minute)`,
    );
  }
}

/** The socket side of the transport. */
interface GelfSender {
  send(json: string): void;
  /** Waits (at most `timeoutMs`) for what was handed over to leave, then releases the socket. */
  close(timeoutMs: number): Promise<void>;
}

/** Resolves when `isIdle()` holds, polled on each `check()`, or after `timeoutMs`. */
function idleOrTimeout(isIdle: () => boolean, timeoutMs: number): { promise: Promise<void>; check(): void } {
  let settle: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    settle = () => {
      if (!isIdle()) return;
      clearTimeout(timer);
      resolve();
    };
  });
  settle();
  return { promise, check: () => settle() };
}

class UdpSender implements GelfSender {
  #socket: UdpSocket | undefined;
  #state: 'idle' | 'resolving' | 'ready' | 'closed' = 'idle';
  #retryAtMs = 0;
  #queue: string[] = [];
  #inFlight = 0;
  #onIdle: (() => void) | undefined;

  constructor(
    private readonly address: GraylogAddress,
    private readonly reporter: ProblemReporter,
  ) {}

  send(json: string): void {
    const counters = this.reporter.counters;
    if (this.#socket !== undefined) {
      this.#transmit(this.#socket, json);
    } else if (this.#state === 'closed' || this.#queue.length >= MAX_QUEUED_RECORDS) {
      counters.dropped++;
    } else if (this.#state === 'resolving' || Date.now() >= this.#retryAtMs) {
      this.#queue.push(json);
      if (this.#state === 'idle') void this.#open();
    } else {
      counters.dropped++;
    }
  }

  async #open(): Promise<void> {
    this.#state = 'resolving';
    try {
      const { address, family } = await lookup(this.address.host);
      if (this.#state !== 'resolving') return;
      const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(this.address.port, address, () => {
          socket.off('error', reject);
          resolve();
        });
      }).catch((error: unknown) => {
        socket.close();
        throw error;
      });
      if (this.#state !== 'resolving') {
        socket.close();
        return;
      }
      socket.unref();
      socket.on('error', (error) => this.#failed('socket error', error));
      this.#socket = socket;
      this.#state = 'ready';
      const queued = this.#queue;
      this.#queue = [];
      for (const json of queued) this.#transmit(socket, json);
    } catch (error) {
      if (this.#state !== 'resolving') return;
      this.reporter.counters.dropped += this.#queue.length;
      this.#queue = [];
      this.#state = 'idle';
      this.#retryAtMs = Date.now() + RETRY_DELAY_MS;
      this.#failed('cannot resolve or connect', error as Error);
    } finally {
      this.#onIdle?.();
    }
  }

  #transmit(socket: UdpSocket, json: string): void {
    const datagrams = gelfUdpDatagrams(json);
    if (datagrams === undefined) {
      this.reporter.counters.dropped++;
      this.reporter.problem('a record too large even for 128 chunks was dropped');
      return;
    }
    this.reporter.counters.sent++;
    for (const datagram of datagrams) {
      this.#inFlight++;
      socket.send(datagram, (error) => {
        this.#inFlight--;
        if (error) this.#failed('send failed', error);
        this.#onIdle?.();
      });
    }
  }

  #failed(what: string, error: Error): void {
    this.reporter.counters.errors++;
    this.reporter.problem(what, error);
  }

  async close(timeoutMs: number): Promise<void> {
    const idle = idleOrTimeout(() => this.#state !== 'resolving' && this.#inFlight === 0, timeoutMs);
    this.#onIdle = idle.check;
    await idle.promise;
    this.reporter.counters.dropped += this.#queue.length;
    this.#queue = [];
    this.#state = 'closed';
    this.#socket?.close();
    this.#socket = undefined;
  }
}

class TcpSender implements GelfSender {
  #socket: TcpSocket | undefined;
  #connected = false;
  #closed = false;
  #queue: Buffer[] = [];
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly address: GraylogAddress,
    private readonly reporter: ProblemReporter,
  ) {
    this.#connect();
  }

  send(json: string): void {
    const socket = this.#connected ? this.#socket : undefined;
    if (this.#closed) {
      this.reporter.counters.dropped++;
    } else if (socket !== undefined && socket.writableLength <= MAX_TCP_BUFFERED_BYTES) {
      this.reporter.counters.sent++;
      socket.write(gelfTcpFrame(json));
    } else if (socket === undefined && this.#queue.length < MAX_QUEUED_RECORDS) {
      this.#queue.push(gelfTcpFrame(json));
    } else {
      this.reporter.counters.dropped++;
    }
  }

  #connect(): void {
    this.#retryTimer = undefined;
    const socket = createConnection({ host: this.address.host, port: this.address.port });
    this.#socket = socket;
    socket.unref();
    socket.setNoDelay(true);
    // Graylog sends nothing; reading keeps the close of the peer visible.
    socket.resume();
    socket.on('connect', () => {
      this.#connected = true;
      const queued = this.#queue;
      this.#queue = [];
      this.reporter.counters.sent += queued.length;
      for (const frame of queued) socket.write(frame);
    });
    socket.on('error', (error) => {
      this.reporter.counters.errors++;
      this.reporter.problem(this.#connected ? 'connection lost' : 'cannot connect', error);
    });
    socket.on('close', () => {
      this.#connected = false;
      if (this.#socket === socket) this.#socket = undefined;
      if (!this.#closed) this.#retryTimer = setTimeout(() => this.#connect(), RETRY_DELAY_MS).unref();
    });
  }

  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    if (socket !== undefined) {
      const closed = idleOrTimeout(() => socket.closed, timeoutMs);
      socket.once('close', closed.check);
      // Still connecting: the queue goes out on connection (the earlier listener), then the socket ends.
      if (this.#connected) socket.end();
      else socket.once('connect', () => socket.end());
      await closed.promise;
      if (!socket.closed) socket.destroy();
    }
    this.reporter.counters.dropped += this.#queue.length;
    this.#queue = [];
  }
}

/** The winston transport. Counters in `stats`; `flush()` on shutdown. */
export class GelfTransport extends TransportBase {
  readonly #sender: GelfSender;
  readonly #reporter: ProblemReporter;
  readonly #host: string;
  readonly #processFields: Readonly<Record<string, string | number>>;

  constructor(options: GelfTransportOptions) {
    super();
    const { address } = options;
    const destination = `${address.protocol ?? 'udp'}:${address.host}:${address.port}`;
    this.#reporter = new ProblemReporter(destination, options.problemLogger);
    this.#sender =
      address.protocol === 'tcp'
        ? new TcpSender(address, this.#reporter)
        : new UdpSender(address, this.#reporter);
    this.#host = options.hostName ?? hostname();
    this.#processFields = {
      service_id: options.serviceId,
      logger: GELF_LOGGER_NAME,
      process_id: process.pid,
    };
  }

  get stats(): GelfStats {
    return { ...this.#reporter.counters };
  }

  override log(record: LogRecord, next: () => void): void {
    try {
      this.#sender.send(
        encodeGelf({
          host: this.#host,
          level: record.level,
          message: messageOf(record),
          timeMs: loggedAt(record),
          meta: metaOf(record),
          processFields: this.#processFields,
        }),
      );
    } catch (error) {
      // Logging must never take the daemon down; an encoding surprise costs one record.
      this.#reporter.counters.dropped++;
      this.#reporter.problem('a record could not be encoded', error as Error);
    }
    next();
  }

  /** Lets records already handed over leave (at most `timeoutMs`), then closes the socket. Idempotent. */
  flush(timeoutMs: number): Promise<void> {
    return this.#sender.close(timeoutMs);
  }
}
