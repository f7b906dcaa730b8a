/**
 * Client configuration from the EPICS_CA_* environment variables (defaults of EPICS Base `CONFIG_ENV`).
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from './constants.js';
import { ipv4FromString, ipv4ToString } from './messages.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface CaConfig {
  /** EPICS_CA_ADDR_LIST: search destinations (unicast or broadcast). */
  readonly addressList: readonly Endpoint[];
  /** EPICS_CA_AUTO_ADDR_LIST: also search the broadcast address of every interface. */
  readonly autoAddressList: boolean;
  /** EPICS_CA_NAME_SERVERS: TCP name servers. */
  readonly nameServers: readonly Endpoint[];
  readonly serverPort: number;
  readonly repeaterPort: number;
  /** Largest message payload accepted from a server. */
  readonly maxArrayBytes: number;
  /** EPICS_CA_CONN_TMO in ms: circuit silence before an ECHO is sent. */
  readonly connectionTimeoutMs: number;
  /** EPICS_CA_MAX_SEARCH_PERIOD in ms: upper bound of the search back-off. */
  readonly maxSearchPeriodMs: number;
  /** Settings that were malformed and replaced by their default. */
  readonly warnings: readonly string[];
}

export type Environment = Readonly<Record<string, string | undefined>>;

const DEFAULT_CONNECTION_TIMEOUT_S = 30;
const DEFAULT_MAX_ARRAY_BYTES = 16384;
/**
 * With EPICS_CA_AUTO_ARRAY_BYTES=YES (the default since Base 3.16.1) libca ignores EPICS_CA_MAX_ARRAY_BYTES and
 * accepts any size; this client still caps what one message may announce, so garbage cannot claim gigabytes.
 */
const AUTO_ARRAY_BYTES_CAP = 512 * 1024 * 1024;
/** Search back-off cap for a daemon: libca's 300 s default makes a late IOC wait minutes. */
const DEFAULT_MAX_SEARCH_PERIOD_S = 60;
const MIN_MAX_SEARCH_PERIOD_S = 1;

function positiveNumber(env: Environment, name: string, fallback: number, warnings: string[]): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    warnings.push(`${name}=${JSON.stringify(text)} is not a positive number; using ${fallback}`);
    return fallback;
  }
  return value;
}

function port(env: Environment, name: string, fallback: number, warnings: string[]): number {
  const value = positiveNumber(env, name, fallback, warnings);
  if (!Number.isInteger(value) || value > 0xffff) {
    warnings.push(`${name}=${value} is not a port number; using ${fallback}`);
    return fallback;
  }
  return value;
}

function yes(env: Environment, name: string, fallback: boolean): boolean {
  const text = env[name]?.trim().toLowerCase();
  if (!text) return fallback;
  return !text.startsWith('n');
}

/** `host`, `host:port` tokens separated by whitespace (or commas). */
export function parseEndpoints(
  text: string | undefined,
  defaultPort: number,
  warnings: string[],
): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const token of (text ?? '').split(/[\s,]+/)) {
    if (!token) continue;
    const colon = token.lastIndexOf(':');
    if (colon < 0) {
      endpoints.push({ host: token, port: defaultPort });
      continue;
    }
    const portNumber = Number(token.slice(colon + 1));
    if (colon === 0 || !Number.isInteger(portNumber) || portNumber <= 0 || portNumber > 0xffff) {
      warnings.push(`address ${JSON.stringify(token)} is malformed; ignored`);
      continue;
    }
    endpoints.push({ host: token.slice(0, colon), port: portNumber });
  }
  return endpoints;
}

export function readCaConfig(env: Environment): CaConfig {
  const warnings: string[] = [];
  const serverPort = port(env, 'EPICS_CA_SERVER_PORT', DEFAULT_SERVER_PORT, warnings);
  const maxArrayBytes = Math.max(
    DEFAULT_MAX_ARRAY_BYTES,
    positiveNumber(env, 'EPICS_CA_MAX_ARRAY_BYTES', DEFAULT_MAX_ARRAY_BYTES, warnings),
  );
  const autoArrayBytes = yes(env, 'EPICS_CA_AUTO_ARRAY_BYTES', true);
  return {
    addressList: parseEndpoints(env['EPICS_CA_ADDR_LIST'], serverPort, warnings),
    autoAddressList: yes(env, 'EPICS_CA_AUTO_ADDR_LIST', true),
    nameServers: parseEndpoints(env['EPICS_CA_NAME_SERVERS'], serverPort, warnings),
    serverPort,
    repeaterPort: port(env, 'EPICS_CA_REPEATER_PORT', DEFAULT_REPEATER_PORT, warnings),
    maxArrayBytes: autoArrayBytes ? Math.max(maxArrayBytes, AUTO_ARRAY_BYTES_CAP) : maxArrayBytes,
    connectionTimeoutMs:
      1000 * positiveNumber(env, 'EPICS_CA_CONN_TMO', DEFAULT_CONNECTION_TIMEOUT_S, warnings),
    maxSearchPeriodMs:
      1000 *
      Math.max(
        MIN_MAX_SEARCH_PERIOD_S,
        positiveNumber(env, 'EPICS_CA_MAX_SEARCH_PERIOD', DEFAULT_MAX_SEARCH_PERIOD_S, warnings),
      ),
    warnings,
  };
}

/** Broadcast address (peer address on point-to-point links) of every non-loopback IPv4 interface. */
export function broadcastAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const addresses = new Set<string>();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      const address = ipv4FromString(info.address);
      const netmask = ipv4FromString(info.netmask);
      if (address === undefined || netmask === undefined) continue;
      addresses.add(ipv4ToString((address | ~netmask) >>> 0));
    }
  }
  return [...addresses];
}
