/**
 * A TCP name server (EPICS_CA_NAME_SERVERS): a circuit kept connected, reconnected with back-off, and used for
 * searches once its VERSION says minor >= 12.
 */
import type { Endpoint } from '../common/addresses.js';
import type { Circuit, SearchReplyListener } from './circuit.js';
import { CA_MINOR_VERSION } from './constants.js';
import type { SearchReply, SearchRequest } from './search.js';
import type { SocketTransport } from '../common/transport.js';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

export interface OpenCircuit {
  readonly circuit: Circuit;
  readonly transport: SocketTransport;
}

/** What a name-server link needs from the client. */
export interface NameServerHost {
  readonly isClosed: boolean;
  /** Opens a circuit that reports search replies to `replies`; `onClosed` runs once it has closed. */
  openCircuit(
    address: string,
    port: number,
    serverMinor: number,
    replies: SearchReplyListener,
    onClosed: () => void,
  ): OpenCircuit;
  onSearchReply(reply: SearchReply): void;
  /** Searches every unresolved name again soon. */
  boostSearches(): void;
}

export class NameServerLink implements SearchReplyListener {
  openCircuit: OpenCircuit | undefined;
  private retryDelayMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private versionSeen = false;

  constructor(
    private readonly host: NameServerHost,
    private readonly endpoint: Endpoint,
  ) {
    this.connect();
  }

  search(requests: readonly SearchRequest[]): void {
    const circuit = this.openCircuit?.circuit;
    if (!circuit?.acceptsSearch) return;
    if (!this.versionSeen) {
      // First searches on a fresh link: the names waiting on long back-off go out now too.
      this.versionSeen = true;
      this.host.boostSearches();
    }
    circuit.search(requests);
  }

  onSearchReply(reply: SearchReply): void {
    this.retryDelayMs = RETRY_MIN_MS;
    this.host.onSearchReply(reply);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.openCircuit?.transport.close();
  }

  private connect(): void {
    this.versionSeen = false;
    this.openCircuit = this.host.openCircuit(
      this.endpoint.host,
      this.endpoint.port,
      CA_MINOR_VERSION,
      this,
      () => {
        this.openCircuit = undefined;
        if (this.stopped || this.host.isClosed) return;
        this.retryTimer = setTimeout(() => this.connect(), this.retryDelayMs);
        this.retryDelayMs = Math.min(2 * this.retryDelayMs, RETRY_MAX_MS);
      },
    );
  }
}
