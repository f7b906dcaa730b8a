/**
 * Metrics of the EPICS clients: protocol errors of misbehaving servers, and every counter a client keeps, as a
 * family of its own named after the field (`searchDatagramsSent` → `forwarder_ca_search_datagrams_sent_total`).
 */
import type { EpicsProtocol } from '../model/protocol.js';
import type { MetricSnapshot, MetricsRegistry, Sample } from './metrics.js';

/** What both EPICS clients count of servers that break the protocol. */
export interface EpicsProtocolErrorCounters {
  /** Circuits closed because a server sent an invalid message. */
  readonly protocolErrors: number;
  /** Malformed UDP datagrams (search replies, beacons), ignored. */
  readonly badDatagrams: number;
}

/** An EPICS client as metrics see it: a record of monotonic counts, the protocol errors among them. */
export interface EpicsClientView {
  readonly counters: Readonly<EpicsProtocolErrorCounters>;
}

/** The EPICS protocols whose clients talk to servers (the fake protocol has none). */
const PROTOCOLS_WITH_SERVERS: readonly EpicsProtocol[] = ['ca', 'pva'];

/** `clients`: by protocol, as far as they have started. */
export function registerEpicsClientMetrics(
  registry: MetricsRegistry,
  clients: () => ReadonlyMap<EpicsProtocol, EpicsClientView>,
): void {
  registry.counter(
    'forwarder_epics_protocol_errors_total',
    'Protocol errors from EPICS servers, by protocol and kind: circuit (a TCP connection closed for an ' +
      'invalid message; its channels reconnect), datagram (a malformed UDP datagram, ignored).',
    () => protocolErrors(clients()),
  );
  registry.collector(() => clientFamilies(clients()));
}

/** Both protocols and kinds always have a series, 0 until the protocol's client exists. */
function protocolErrors(clients: ReadonlyMap<EpicsProtocol, EpicsClientView>): Sample[] {
  return PROTOCOLS_WITH_SERVERS.flatMap((protocol) => {
    const counters = clients.get(protocol)?.counters;
    return [
      { labels: { protocol, kind: 'circuit' }, value: counters?.protocolErrors ?? 0 },
      { labels: { protocol, kind: 'datagram' }, value: counters?.badDatagrams ?? 0 },
    ];
  });
}

function* clientFamilies(clients: ReadonlyMap<EpicsProtocol, EpicsClientView>): Iterable<MetricSnapshot> {
  for (const [protocol, client] of clients) {
    for (const [field, value] of Object.entries(client.counters)) {
      if (typeof value !== 'number') continue;
      yield {
        name: `forwarder_${protocol}_${snakeCase(field)}_total`,
        help: `${protocol.toUpperCase()} client: ${words(field)}.`,
        type: 'counter',
        samples: [{ value }],
      };
    }
  }
}

/** `searchDatagramsSent` → `search_datagrams_sent`. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `searchDatagramsSent` → `search datagrams sent`. */
function words(name: string): string {
  return snakeCase(name).replace(/_/g, ' ');
}
