/**
 * The optional HTTP listener (`--http-address`): `/metrics` (Prometheus text), `/healthz` (200 or 503 with a
 * short JSON body), `/status.json` and `/` (the operators' page, which draws /status.json). Read-only: GET and
 * HEAD only. It serves from the moment the daemon starts, so a forwarder still waiting for Kafka says so instead
 * of refusing connections. Large replies go gzip-compressed to clients that accept it (every browser does):
 * /status.json of thousands of streams shrinks about tenfold.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { constants as zlib, gzip } from 'node:zlib';
import type { HostPort } from '../util/host-port.js';
import type { HealthReport } from './health.js';
import type { Logger } from '../logging/logger.js';
import { EXPOSITION_CONTENT_TYPE } from './metrics.js';
import { RateLimitedLog } from '../logging/rate-limited.js';
import { SettingsError } from '../util/settings-error.js';
import type { StatusDocument } from './status-document.js';
import { STATUS_PAGE_HTML, STATUS_PAGE_POLICY } from './status-page.js';

export interface HttpHandlers {
  readonly metrics: () => Promise<string>;
  readonly health: () => Promise<HealthReport>;
  readonly status: () => Promise<StatusDocument>;
}

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** JSON, indented for people unless `compact` (/status.json of thousands of streams: a third smaller). */
function json(status: number, value: unknown, compact = false): Reply {
  return { status, contentType: JSON_TYPE, body: `${JSON.stringify(value, null, compact ? 0 : 2)}\n` };
}

/** What the usual reasons a listener cannot start mean for the operator. */
const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another program listens on that port',
  EADDRNOTAVAIL: "the address is not one of this host's",
  EACCES: 'ports below 1024 need privileges',
  ENOTFOUND: 'the host name does not resolve',
};

/** Replies smaller than this go uncompressed: compressing them saves little. */
const COMPRESS_FROM_BYTES = 8 * 1024;
/** Fast compression: the forwarder's CPU is for forwarding (level 6 saves a few per cent more at 3 times the cost). */
const COMPRESSION = { level: 1, strategy: zlib.Z_DEFAULT_STRATEGY };
const compress = promisify(gzip);

/**
 * A /status.json is served again for up to this many times as long as it took to make: however many status pages
 * are open (each reads it every 2 s), making them takes at most about a tenth of the main thread, which at 10,000
 * streams needs ~0.1 s per document.
 */
const STATUS_REUSE_FACTOR = 10;
/** ... and for at most this long, so that no page is more than a second behind. */
const STATUS_REUSE_MAX_MS = 1_000;

export class ObservabilityServer {
  private readonly problems: RateLimitedLog;
  /** The latest /status.json reply (while it is made, the promise of it), and until when it is served again. */
  private sharedStatus: { readonly reply: Promise<Reply>; reusableUntilMs: number } | undefined;
  /** The bytes of replies served more than once (the shared /status.json), made once. */
  private readonly bodies = new WeakMap<Reply, { readonly raw: Buffer; gzipped?: Promise<Buffer> }>();

  private constructor(
    private readonly server: Server,
    private readonly handlers: HttpHandlers,
    logger: Logger,
  ) {
    this.problems = new RateLimitedLog(logger, 'error', 60_000);
  }

  /**
   * Listens on `address`; rejects with a SettingsError saying why when it cannot (address in use, not local, ...).
   */
  static async start(
    address: HostPort,
    handlers: HttpHandlers,
    logger: Logger,
  ): Promise<ObservabilityServer> {
    const server = createServer();
    const instance = new ObservabilityServer(server, handlers, logger);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void instance.serve(request, response);
    });
    // A malformed request just loses its connection.
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolveListen, rejectListen) => {
      const refused = (error: NodeJS.ErrnoException): void =>
        rejectListen(
          new SettingsError(
            `cannot serve HTTP on ${address.host}:${address.port}: ${error.code ?? error.message}` +
              ` (${LISTEN_ERRORS[error.code ?? ''] ?? error.message}; change --http-address)`,
          ),
        );
      server.once('error', refused);
      server.listen(address.port, address.host, () => {
        server.off('error', refused);
        resolveListen();
      });
    });
    server.on('error', (error) => logger.error(`HTTP listener: ${error.message}`));
    return instance;
  }

  /** The address actually bound (the port, when 0 was asked for). */
  get address(): HostPort {
    const { address, port } = this.server.address() as AddressInfo;
    return { host: address, port };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolveClose) => this.server.close(() => resolveClose()));
    this.server.closeAllConnections();
    await closed;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(request);
    } catch (error) {
      this.problems.log(`HTTP ${request.url ?? ''}: ${(error as Error).stack ?? String(error)}`);
      reply = json(500, { error: 'internal error' });
    }
    const bodies = this.bodiesOf(reply);
    let body = bodies.raw;
    const headers: Record<string, string | number> = {
      'Content-Type': reply.contentType,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
    };
    if (body.length >= COMPRESS_FROM_BYTES && acceptsGzip(request)) {
      bodies.gzipped ??= compress(body, COMPRESSION);
      body = await bodies.gzipped;
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    if (reply.contentType.startsWith('text/html')) headers['Content-Security-Policy'] = STATUS_PAGE_POLICY;
    if (reply.status === 405) headers['Allow'] = 'GET, HEAD';
    response.writeHead(reply.status, headers);
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  private async route(request: IncomingMessage): Promise<Reply> {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return json(405, { error: 'method not allowed' });
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    switch (path) {
      case '/metrics':
        return { status: 200, contentType: EXPOSITION_CONTENT_TYPE, body: await this.handlers.metrics() };
      case '/healthz': {
        const health = await this.handlers.health();
        return json(health.healthy ? 200 : 503, health);
      }
      case '/status.json':
        return this.statusReply();
      case '/':
        return { status: 200, contentType: 'text/html; charset=utf-8', body: STATUS_PAGE_HTML };
      default:
        return json(404, { error: 'not found', paths: ['/', '/metrics', '/healthz', '/status.json'] });
    }
  }

  /** The shared /status.json reply while it is fresh enough, else a new one (requests meanwhile share it). */
  private statusReply(): Promise<Reply> {
    const startedMs = performance.now();
    if (this.sharedStatus !== undefined && startedMs < this.sharedStatus.reusableUntilMs)
      return this.sharedStatus.reply;
    const reply = this.handlers.status().then((document) => json(200, document, true));
    const shared = { reply, reusableUntilMs: Infinity };
    this.sharedStatus = shared;
    reply.then(
      () => {
        const madeMs = performance.now();
        shared.reusableUntilMs =
          madeMs + Math.min(STATUS_REUSE_MAX_MS, STATUS_REUSE_FACTOR * (madeMs - startedMs));
      },
      () => {
        if (this.sharedStatus === shared) this.sharedStatus = undefined;
      },
    );
    return reply;
  }

  private bodiesOf(reply: Reply): { readonly raw: Buffer; gzipped?: Promise<Buffer> } {
    let bodies = this.bodies.get(reply);
    if (bodies === undefined) {
      bodies = { raw: Buffer.from(reply.body) };
      this.bodies.set(reply, bodies);
    }
    return bodies;
  }
}

/** Whether the client takes gzip (`Accept-Encoding: gzip`, not refused with q=0). */
function acceptsGzip(request: IncomingMessage): boolean {
  const accepted = request.headers['accept-encoding'];
  if (typeof accepted !== 'string') return false;
  return accepted.split(',').some((coding) => {
    const [name, ...parameters] = coding.trim().toLowerCase().split(';');
    const refused = parameters.some((parameter) => /^\s*q=0(\.0*)?\s*$/.test(parameter));
    return (name === 'gzip' || name === '*') && !refused;
  });
}
