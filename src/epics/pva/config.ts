/**
 * Client configuration from the EPICS environment (spec §1): where to send searches, name servers, ports and
 * the connection timeout. Read from an env-like object so tests never depend on the process environment.
 */
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DEFAULT_BROADCAST_PORT, DEFAULT_SERVER_PORT } from './protocol.js';
import type { Logger } from '../../logging/logger.js';

export interface Endpoint {
  /** IPv4 address or host name. */
  readonly host: string;
  readonly port: number;
}

export interface SearchDestination extends Endpoint {
  /** Broadcast or multicast: searches to it are not flagged as unicast. */
  readonly broadcast: boolean;
}

export interface PvaClientConfig {
  readonly searchDestinations: readonly SearchDestination[];
  readonly nameServers: readonly Endpoint[];
  readonly broadcastPort: number;
  readonly serverPort: number;
  /** A connection silent for this long is closed (pvxs: 4/3 × EPICS_PVA_CONN_TMO). */
  readonly idleTimeoutMs: number;
  /** Period of CMD_ECHO on an idle connection (pvxs: 3/8 of the idle timeout, within 1–15 s). */
  readonly echoIntervalMs: number;
}

export type Environment = Readonly<Record<string, string | undefined>>;

const DEFAULT_CONNECTION_TIMEOUT_S = 30;

export function readPvaConfig(env: Environment, logger?: Logger): PvaClientConfig {
  const broadcastPort = readPort(env, 'EPICS_PVA_BROADCAST_PORT', DEFAULT_BROADCAST_PORT, logger);
  const serverPort = readPort(env, 'EPICS_PVA_SERVER_PORT', DEFAULT_SERVER_PORT, logger);
  const searchDestinations: SearchDestination[] = [];
  for (const entry of splitList(env['EPICS_PVA_ADDR_LIST'])) {
    const endpoint = parseEndpoint(entry, broadcastPort, logger, 'EPICS_PVA_ADDR_LIST');
    if (endpoint) searchDestinations.push({ ...endpoint, broadcast: isBroadcastAddress(endpoint.host) });
  }
  if (readYesNo(env['EPICS_PVA_AUTO_ADDR_LIST'], true)) {
    for (const host of interfaceBroadcastAddresses()) {
      if (!searchDestinations.some((d) => d.host === host && d.port === broadcastPort)) {
        searchDestinations.push({ host, port: broadcastPort, broadcast: true });
      }
    }
  }
  const nameServers: Endpoint[] = [];
  for (const entry of splitList(env['EPICS_PVA_NAME_SERVERS'])) {
    const endpoint = parseEndpoint(entry, serverPort, logger, 'EPICS_PVA_NAME_SERVERS');
    if (endpoint) nameServers.push(endpoint);
  }
  const timeoutS = readNumber(env, 'EPICS_PVA_CONN_TMO', DEFAULT_CONNECTION_TIMEOUT_S, logger);
  const idleTimeoutMs = Math.round(timeoutS * 1000 * (4 / 3));
  const echoIntervalMs = Math.round(Math.min(15_000, Math.max(1_000, (idleTimeoutMs * 3) / 8)));
  return { searchDestinations, nameServers, broadcastPort, serverPort, idleTimeoutMs, echoIntervalMs };
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((entry) => entry !== '');
}

/**
 * Parses `host[:port]`, ignoring the `,ttl` and `@interface` suffixes of multicast entries. IPv6 entries
 * (`[addr]`) are skipped with a warning: searches go out over IPv4 only.
 */
export function parseEndpoint(
  entry: string,
  defaultPort: number,
  logger?: Logger,
  variable = '',
): Endpoint | undefined {
  const plain = entry.replace(/@.*$/, '').replace(/,\d+$/, '');
  if (plain.startsWith('[')) {
    logger?.warn(`Ignoring IPv6 entry "${entry}" in ${variable}: only IPv4 is supported.`);
    return undefined;
  }
  const match = /^([^:]+)(?::(\d+))?$/.exec(plain);
  const host = match?.[1];
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (!host || !(port > 0 && port < 65536)) {
    logger?.warn(`Ignoring malformed entry "${entry}" in ${variable}.`);
    return undefined;
  }
  return { host, port };
}

function readYesNo(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  return !/^(no|n|false|0)$/i.test(value.trim());
}

function readNumber(env: Environment, name: string, fallback: number, logger?: Logger): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!(value > 0) || !Number.isFinite(value)) {
    logger?.warn(`Ignoring invalid ${name}="${raw}", using ${fallback}.`);
    return fallback;
  }
  return value;
}

function readPort(env: Environment, name: string, fallback: number, logger?: Logger): number {
  const port = readNumber(env, name, fallback, logger);
  if (!Number.isInteger(port) || port >= 65536) {
    logger?.warn(`Ignoring invalid ${name}="${env[name]}", using ${fallback}.`);
    return fallback;
  }
  return port;
}

/** Broadcast addresses of the IPv4 interfaces that are up and not loopback. */
export function interfaceBroadcastAddresses(): string[] {
  const out = new Set<string>();
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family !== 'IPv4' || address.internal) continue;
      const ip = ipv4ToNumber(address.address);
      const mask = ipv4ToNumber(address.netmask);
      out.add(numberToIpv4((ip | ~mask) >>> 0));
    }
  }
  return [...out];
}

function isBroadcastAddress(host: string): boolean {
  if (!isIPv4(host)) return false;
  const first = Number(host.split('.')[0]);
  return (
    host === '255.255.255.255' ||
    (first >= 224 && first <= 239) ||
    interfaceBroadcastAddresses().includes(host)
  );
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}
