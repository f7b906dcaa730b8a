/** IPv4 addresses and `host[:port]` endpoints as EPICS address lists and name-server lists give them. */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export interface Endpoint {
  /** IPv4 address or host name. */
  readonly host: string;
  readonly port: number;
}

/** `host:port host:port` for the log, or `none`. */
export function endpointsText(endpoints: readonly Endpoint[]): string {
  return endpoints.length === 0 ? 'none' : endpoints.map(({ host, port }) => `${host}:${port}`).join(' ');
}

/** Dotted-quad text of an IPv4 address held as u32. */
export function ipv4ToString(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** u32 of a dotted-quad IPv4 address; undefined for anything else. */
export function ipv4FromString(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Whether a dotted-quad IPv4 address is a multicast group (224.0.0.0/4). */
export function isMulticast(ipv4: string): boolean {
  const address = ipv4FromString(ipv4);
  return address !== undefined && address >>> 28 === 0xe;
}

/**
 * One address list entry: `host` or `host:port`, ignoring the `,ttl` and `@interface` suffixes of pvAccess
 * multicast entries. Returns why not when the entry is unusable (IPv6 entries among them: searches go out over
 * IPv4 only).
 */
export function parseEndpoint(entry: string, defaultPort: number): Endpoint | string {
  const plain = entry.replace(/@.*$/, '').replace(/,\d+$/, '');
  if (plain.startsWith('[')) return `entry "${entry}" is IPv6, which is not supported; ignored`;
  const match = /^([^:]+)(?::(\d+))?$/.exec(plain);
  const host = match?.[1];
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (!host || !(port > 0 && port < 65536)) return `entry "${entry}" is malformed; ignored`;
  return { host, port };
}

/** An IPv4 interface address and its broadcast address (the peer's address on point-to-point links). */
export interface InterfaceBroadcast {
  readonly address: string;
  readonly broadcast: string;
  /** Loopback. */
  readonly internal: boolean;
}

/** Every IPv4 interface address of the host, with its broadcast address. */
export function interfaceBroadcasts(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): InterfaceBroadcast[] {
  const found: InterfaceBroadcast[] = [];
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4') continue;
      const address = ipv4FromString(info.address);
      const netmask = ipv4FromString(info.netmask);
      if (address === undefined || netmask === undefined) continue;
      const broadcast = ipv4ToString((address | ~netmask) >>> 0);
      found.push({ address: info.address, broadcast, internal: info.internal });
    }
  }
  return found;
}

/** Broadcast address (peer address on point-to-point links) of every non-loopback IPv4 interface. */
export function broadcastAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const addresses = interfaceBroadcasts(interfaces)
    .filter((found) => !found.internal)
    .map((found) => found.broadcast);
  return [...new Set(addresses)];
}
