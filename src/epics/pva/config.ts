/**
 * Client configuration from the EPICS_PVA_* environment variables (docs/protocols/pvaccess.md, "Environment"): where
 * to send searches, where to listen for beacons, name servers, ports and the connection timeout.
 */
import { isIPv4 } from 'node:net';
import {
  type Endpoint,
  type InterfaceBroadcast,
  interfaceBroadcasts,
  isMulticast,
} from '../common/addresses.js';
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
  const interfaces = interfaceBroadcasts();
  const isBroadcast = (host: string): boolean => isBroadcastAddress(host, interfaces);
  const searchDestinations: SearchDestination[] = read
    .endpoints('EPICS_PVA_ADDR_LIST', broadcastPort, LIST_SEPARATOR)
    .map((endpoint) => ({ ...endpoint, broadcast: isBroadcast(endpoint.host) }));
  if (read.yesNo('EPICS_PVA_AUTO_ADDR_LIST', true)) {
    for (const { broadcast: host } of interfaces.filter((found) => !found.internal)) {
      if (!searchDestinations.some((d) => d.host === host && d.port === broadcastPort)) {
        searchDestinations.push({ host, port: broadcastPort, broadcast: true });
      }
    }
  }
  const beaconAddresses = env['EPICS_PVA_INTF_ADDR_LIST']?.trim()
    ? beaconListenAddresses(read, broadcastPort, interfaces)
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
function isBroadcastAddress(host: string, interfaces: readonly InterfaceBroadcast[]): boolean {
  if (!isIPv4(host)) return false;
  return (
    host === '255.255.255.255' || isMulticast(host) || interfaces.some((found) => found.broadcast === host)
  );
}

/**
 * Where EPICS_PVA_INTF_ADDR_LIST says beacons may be received, read as pvxs reads it: an interface's address
 * stands for that interface's broadcast address, 0.0.0.0 for every interface's, and a broadcast or multicast
 * address for itself. No socket is bound to a unicast address (or to all): it would take the unicast searches meant
 * for the PVA servers of this host that share the port.
 */
function beaconListenAddresses(
  read: EnvironmentReader,
  defaultPort: number,
  interfaces: readonly InterfaceBroadcast[],
): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const { host, port } of read.endpoints('EPICS_PVA_INTF_ADDR_LIST', defaultPort, LIST_SEPARATOR)) {
    let hosts: string[];
    if (host === '0.0.0.0') hosts = interfaces.map((found) => found.broadcast);
    else if (isBroadcastAddress(host, interfaces)) hosts = [host];
    else hosts = interfaces.filter((found) => found.address === host).map((found) => found.broadcast);
    if (hosts.length === 0) {
      read.warnings.push(
        `EPICS_PVA_INTF_ADDR_LIST: "${host}" is neither an address of this host's interfaces nor a broadcast or ` +
          'multicast address; ignored',
      );
    }
    for (const listenHost of hosts) endpoints.push({ host: listenHost, port });
  }
  return distinct(endpoints);
}

function distinct(endpoints: readonly Endpoint[]): Endpoint[] {
  return endpoints.filter(
    (endpoint, i) => endpoints.findIndex((e) => e.host === endpoint.host && e.port === endpoint.port) === i,
  );
}
