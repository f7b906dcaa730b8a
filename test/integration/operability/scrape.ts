import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Headers;
  readonly body: string;
}

/** GET with a bound on the whole exchange. */
export async function httpGet(url: string, timeoutMs = 10_000): Promise<HttpReply> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    headers: response.headers,
    body: await response.text(),
  };
}

/**
 * The value of one series in a Prometheus text exposition, or undefined when absent. `labels` must list every
 * label of the series, in the order the exposition writes them.
 */
export function metricValue(
  exposition: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const entries = Object.entries(labels);
  const series =
    entries.length === 0
      ? name
      : `${name}{${entries.map(([label, value]) => `${label}="${value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`).join(',')}}`;
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Polls until `read` returns something `accept` takes; rejects with the last value after `timeoutMs`. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  description: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${description}; last: ${JSON.stringify(last).slice(0, 2000)}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
}

/** A stand-in Carbon server on loopback: keeps every plaintext line it receives. */
export class CarbonListener {
  readonly lines: string[] = [];
  private readonly sockets = new Set<Socket>();
  private partial = '';

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        const parts = (this.partial + text).split('\n');
        this.partial = parts.pop() ?? '';
        this.lines.push(...parts);
      });
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on `port` (default: any free one). */
  static async start(port = 0): Promise<CarbonListener> {
    const server = createServer();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return new CarbonListener(server);
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** The latest value sent for `path`, or undefined. */
  latest(path: string): number | undefined {
    for (let index = this.lines.length - 1; index >= 0; index--) {
      const [name, value] = (this.lines[index] ?? '').split(' ');
      if (name === path) return Number(value);
    }
    return undefined;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolveClose) => this.server.close(() => resolveClose()));
  }
}
