/** Host names of address lists and name-server lists, resolved to IPv4 addresses when a client starts. */
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import type { Endpoint } from './addresses.js';

/** Resolves each entry's host; entries that do not resolve are reported and left out. */
export async function resolveEndpoints<E extends Endpoint>(
  endpoints: readonly E[],
  onUnresolved: (endpoint: E, error: Error) => void,
): Promise<E[]> {
  const resolved: (E | undefined)[] = await Promise.all(
    endpoints.map(async (endpoint): Promise<E | undefined> => {
      if (isIPv4(endpoint.host)) return endpoint;
      try {
        const { address } = await lookup(endpoint.host, { family: 4 });
        return { ...endpoint, host: address };
      } catch (error) {
        onUnresolved(endpoint, error as Error);
        return undefined;
      }
    }),
  );
  return resolved.filter((endpoint): endpoint is E => endpoint !== undefined);
}
