/**
 * Reading EPICS_* settings from an environment-like object (tests never depend on the process environment). A
 * malformed value is replaced by its default with a warning, which the client logs once at start.
 */
import { type Endpoint, parseEndpoint } from './addresses.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export class EnvironmentReader {
  /** Settings that were malformed and replaced by their default. */
  readonly warnings: string[] = [];

  constructor(private readonly env: Environment) {}

  positiveNumber(name: string, fallback: number): number {
    const text = this.env[name]?.trim();
    if (!text) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) {
      this.warnings.push(`${name}=${JSON.stringify(text)} is not a positive number; using ${fallback}`);
      return fallback;
    }
    return value;
  }

  port(name: string, fallback: number): number {
    const value = this.positiveNumber(name, fallback);
    if (!Number.isInteger(value) || value > 0xffff) {
      this.warnings.push(`${name}=${value} is not a port number; using ${fallback}`);
      return fallback;
    }
    return value;
  }

  /** NO, N, FALSE or 0 in any case (anything starting with N, as libca reads it) is no; anything else yes. */
  yesNo(name: string, fallback: boolean): boolean {
    const text = this.env[name]?.trim().toLowerCase();
    if (!text) return fallback;
    return !(text.startsWith('n') || text === 'false' || text === '0');
  }

  /** A list of `host[:port]` entries separated by `separator`; unusable entries are left out with a warning. */
  endpoints(name: string, defaultPort: number, separator: RegExp): Endpoint[] {
    const endpoints: Endpoint[] = [];
    for (const entry of (this.env[name] ?? '').split(separator)) {
      if (!entry) continue;
      const parsed = parseEndpoint(entry, defaultPort);
      if (typeof parsed === 'string') this.warnings.push(`${name}: ${parsed}`);
      else endpoints.push(parsed);
    }
    return endpoints;
  }
}
