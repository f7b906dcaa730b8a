/**
 * Client configuration from the EPICS_PVA_* environment variables (docs/protocols/pvaccess.md, "Environment"): where
 * to send searches, where to listen for beacons, name servers, ports and the connection timeout.
 */
import { isIPv4 } from 'node:net';
import { broadcastAddresses, type Endpoint, isMulticast } from '../common/addresses.js';
import { type Environment, EnvironmentReader } from '../common/environment.js';
import { DEFAULT_BROADCAST_PORT, DEFAULT_SERVER_PORT } from './protocol.js';

export interface SearchDestination extends Endpoint {
  /** Broadcast or multicast: searches to it are not flagged as unicast. */
  readonly broadcast: boolean;
}

export interface PvaConfig {
  readonly searchDestinations: readonly SearchDestination[];
  /** Broadcast and multicast addresses (and ports) where server beacons are listened for. */
  readonly beaconAddresses: readonly Endpoint[];
  readonly nameServers: readonly Endpoint[];
  readonly broadcastPort: number;
  readonly serverPort: number;
  /** A connection silent for this long is closed (pvxs: 4/3 × EPICS_PVA_CONN_TMO). */
  readonly idleTimeoutMs: number;
  /** Period of CMD_ECHO on an idle connection (pvxs: 3/8 of the idle timeout, within 1–15 s). */
  readonly echoIntervalMs: number;
  /** Settings that were malformed and replaced by their default, or left out. */
  readonly warnings: readonly string[];
}

const DEFAULT_CONNECTION_TIMEOUT_S = 30;
/** pvAccess address lists separate entries by white space (a comma belongs to a multicast entry's TTL). */
const LIST_SEPARATOR = /\s+/;

export function readPvaConfig(env: Environment): PvaConfig {
  const read = new EnvironmentReader(env);
  const broadcastPort = read.port('EPICS_PVA_BROADCAST_PORT', DEFAULT_BROADCAST_PORT);
  const serverPort = read.port('EPICS_PVA_SERVER_PORT', DEFAULT_SERVER_PORT);
  const interfaceBroadcasts = broadcastAddresses(undefined, { loopback: true });
  const isBroadcast = (host: string): boolean => isBroadcastAddress(host, interfaceBroadcasts);
  const searchDestinations: SearchDestination[] = read
    .endpoints('EPICS_PVA_ADDR_LIST', broadcastPort, LIST_SEPARATOR)
    .map((endpoint) => ({ ...endpoint, broadcast: isBroadcast(endpoint.host) }));
  if (read.yesNo('EPICS_PVA_AUTO_ADDR_LIST', true)) {
    for (const host of broadcastAddresses()) {
      if (!searchDestinations.some((d) => d.host === host && d.port === broadcastPort)) {
        searchDestinations.push({ host, port: broadcastPort, broadcast: true });
      }
    }
  }
  const beaconAddresses = env['EPICS_PVA_INTF_ADDR_LIST']?.trim()
    ? listenableAddresses(read, broadcastPort, isBroadcast)
    : distinct(searchDestinations.filter((d) => d.broadcast).map(({ host, port }) => ({ host, port })));
  const nameServers = read.endpoints('EPICS_PVA_NAME_SERVERS', serverPort, LIST_SEPARATOR);
  const timeoutS = read.positiveNumber('EPICS_PVA_CONN_TMO', DEFAULT_CONNECTION_TIMEOUT_S);
  const idleTimeoutMs = Math.round(timeoutS * 1000 * (4 / 3));
  const echoIntervalMs = Math.round(Math.min(15_000, Math.max(1_000, (idleTimeoutMs * 3) / 8)));
  return {
    searchDestinations,
    beaconAddresses,
    nameServers,
    broadcastPort,
    serverPort,
    idleTimeoutMs,
    echoIntervalMs,
    warnings: read.warnings,
  };
}

/** 255.255.255.255, a multicast group or the broadcast address of an interface (loopback included). */
function isBroadcastAddress(host: string, interfaceBroadcasts: readonly string[]): boolean {
  if (!isIPv4(host)) return false;
  return host === '255.255.255.255' || isMulticast(host) || interfaceBroadcasts.includes(host);
}

/**
 * The broadcast and multicast entries of EPICS_PVA_INTF_ADDR_LIST. Others are left out with a warning: a socket on
 * a unicast address (or on all) would take the unicast searches meant for the PVA servers of this host that
 * share the port.
 */
function listenableAddresses(
  read: EnvironmentReader,
  port: number,
  isBroadcast: (host: string) => boolean,
): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const endpoint of read.endpoints('EPICS_PVA_INTF_ADDR_LIST', port, LIST_SEPARATOR)) {
    if (isBroadcast(endpoint.host)) endpoints.push(endpoint);
    else {
      read.warnings.push(
        `EPICS_PVA_INTF_ADDR_LIST: "${endpoint.host}" is not a broadcast or multicast address; ignored ` +
          '(beacons are listened for at broadcast and multicast addresses only)',
      );
    }
  }
  return endpoints;
}

function distinct(endpoints: readonly Endpoint[]): Endpoint[] {
  return endpoints.filter(
    (endpoint, i) => endpoints.findIndex((e) => e.host === endpoint.host && e.port === endpoint.port) === i,
  );
}
