/**
 * A TCP or UDP endpoint, and its text form: `host:port`, `[ipv6]:port`, or the host alone where a default port
 * applies. Hosts are names or IPv4 addresses; IPv6 addresses go in brackets. Used for Kafka brokers and the
 * launcher's listen and Carbon addresses.
 */
import { isIPv6 } from 'node:net';

/** A TCP or UDP endpoint: a host name or address, and a port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

const hostNamePattern = /^[A-Za-z0-9._-]+$/;
const portPattern = /^[0-9]+$/;

/**
 * Parses `host:port`, `[ipv6]:port`, or (with a default port) just the host. The host comes back without
 * brackets. Throws AddressError.
 */
export function parseHostPort(text: string, defaultPort?: number): HostPort {
  const { host, portText } = splitHostPort(text);
  if (portText === undefined) {
    if (defaultPort === undefined) throw new AddressError(`"${text}" has no port, expected host:port`);
    return { host, port: defaultPort };
  }
  if (portText === '') throw new AddressError(`no port after ":" in "${text}"`);
  if (!portPattern.test(portText)) throw new AddressError(`port "${portText}" is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new AddressError(`port ${portText} is not in 1..65535`);
  return { host, port };
}

function splitHostPort(text: string): { host: string; portText?: string } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new AddressError(`missing "]" after the IPv6 address in "${text}"`);
    const host = text.slice(1, close);
    if (!isIPv6(host)) throw new AddressError(`"${host}" is not an IPv6 address`);
    const after = text.slice(close + 1);
    if (after === '') return { host };
    if (!after.startsWith(':')) throw new AddressError(`expected ":port" after "]" in "${text}"`);
    return { host, portText: after.slice(1) };
  }
  const colon = text.indexOf(':');
  if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
    throw new AddressError(`too many ":" in "${text}" (an IPv6 address goes in brackets: [::1]:9092)`);
  }
  const host = colon < 0 ? text : text.slice(0, colon);
  if (host === '') throw new AddressError(`no host in "${text}"`);
  if (!hostNamePattern.test(host)) {
    const bad = [...host].find((character) => !hostNamePattern.test(character));
    throw new AddressError(`host "${host}" contains "${bad}"`);
  }
  return colon < 0 ? { host } : { host, portText: text.slice(colon + 1) };
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatHostPort({ host, port }: HostPort): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port}`;
}
