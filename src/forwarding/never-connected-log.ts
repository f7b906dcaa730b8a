/**
 * One periodic log line naming the PVs that have never connected (a typo, an IOC not started, a gateway missing),
 * instead of silence: the EPICS clients keep searching for them without a word. The first comes soon after
 * start-up, when the start-up searches are done; then one every few minutes while any is left.
 */
import type { Logger } from '../logging/logger.js';
import type { StreamStatus } from './forwarder.js';

/** The first line after start-up (searches of a large set take a few seconds), then one per period. */
export const NEVER_CONNECTED_FIRST_MS = 30_000;
export const NEVER_CONNECTED_PERIOD_MS = 300_000;
/** PV names listed in the line; the rest are counted. */
const NAMED = 10;

/** The line for these streams, or undefined when every PV has connected at some time. */
export function neverConnectedLine(statuses: readonly StreamStatus[]): string | undefined {
  // A PV on several streams (topics, schemas) counts once per protocol.
  const pvs = new Map<string, string>();
  const byProtocol = new Map<string, number>();
  for (const { spec, counters } of statuses) {
    const key = `${spec.protocol}\u0000${spec.pvName}`;
    if (counters.connection !== 'never_connected' || pvs.has(key)) continue;
    pvs.set(key, spec.pvName);
    byProtocol.set(spec.protocol, (byProtocol.get(spec.protocol) ?? 0) + 1);
  }
  if (pvs.size === 0) return undefined;
  const names = [...pvs.values()].slice(0, NAMED);
  const more = pvs.size > NAMED ? ` and ${pvs.size - NAMED} more` : '';
  const protocols = [...byProtocol].map(([protocol, count]) => `${protocol} ${count}`).join(', ');
  return `${pvs.size} PV${pvs.size === 1 ? ' has' : 's have'} never connected (${protocols}): ${names.join(', ')}${more}`;
}

/** Logs neverConnectedLine as a warning, first after NEVER_CONNECTED_FIRST_MS, then every period. */
export class NeverConnectedLog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly statuses: () => readonly StreamStatus[],
    private readonly logger: Logger,
    private readonly firstMs = NEVER_CONNECTED_FIRST_MS,
    private readonly periodMs = NEVER_CONNECTED_PERIOD_MS,
  ) {}

  start(): void {
    this.timer = setTimeout(() => {
      this.report();
      this.timer = setInterval(() => this.report(), this.periodMs);
      this.timer.unref();
    }, this.firstMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
  }

  private report(): void {
    const line = neverConnectedLine(this.statuses());
    if (line !== undefined) this.logger.warn(line);
  }
}
