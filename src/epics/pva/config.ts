/**
 * Client configuration from the EPICS_PVA_* environment variables (docs/protocols/pvaccess.md, "Environment"): where
 * to send searches, name servers, ports and the connection timeout.
 */
import { isIPv4 } from 'node:net';
import { broadcastAddresses, type Endpoint } from '../common/addresses.js';
import { type Environment, EnvironmentReader } from '../common/environment.js';
import { DEFAULT_BROADCAST_PORT, DEFAULT_SERVER_PORT } from './protocol.js';

export interface SearchDestination extends Endpoint {
  /** Broadcast or multicast: searches to it are not flagged as unicast. */
  readonly broadcast: boolean;
}

export interface PvaConfig {
  readonly searchDestinations: readonly SearchDestination[];
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
  const interfaceBroadcasts = broadcastAddresses();
  const searchDestinations: SearchDestination[] = read
    .endpoints('EPICS_PVA_ADDR_LIST', broadcastPort, LIST_SEPARATOR)
    .map((endpoint) => ({ ...endpoint, broadcast: isBroadcastAddress(endpoint.host, interfaceBroadcasts) }));
  if (read.yesNo('EPICS_PVA_AUTO_ADDR_LIST', true)) {
    for (const host of interfaceBroadcasts) {
      if (!searchDestinations.some((d) => d.host === host && d.port === broadcastPort)) {
        searchDestinations.push({ host, port: broadcastPort, broadcast: true });
      }
    }
  }
  const nameServers = read.endpoints('EPICS_PVA_NAME_SERVERS', serverPort, LIST_SEPARATOR);
  const timeoutS = read.positiveNumber('EPICS_PVA_CONN_TMO', DEFAULT_CONNECTION_TIMEOUT_S);
  const idleTimeoutMs = Math.round(timeoutS * 1000 * (4 / 3));
  const echoIntervalMs = Math.round(Math.min(15_000, Math.max(1_000, (idleTimeoutMs * 3) / 8)));
  return {
    searchDestinations,
    nameServers,
    broadcastPort,
    serverPort,
    idleTimeoutMs,
    echoIntervalMs,
    warnings: read.warnings,
  };
}

function isBroadcastAddress(host: string, interfaceBroadcasts: readonly string[]): boolean {
  if (!isIPv4(host)) return false;
  const first = Number(host.split('.')[0]);
  return host === '255.255.255.255' || (first >= 224 && first <= 239) || interfaceBroadcasts.includes(host);
}
