import type { Logger } from './logger.js';

/**
 * Logs a recurring problem once, then at most once per interval with how many were suppressed, so a PV that
 * fails on every update cannot flood the log.
 */
export class RateLimitedLog {
  private nextAllowedMs = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly level: 'error' | 'warn',
    private readonly intervalMs = 60_000,
  ) {}

  log(message: string, nowMs: number = Date.now()): void {
    if (nowMs < this.nextAllowedMs) {
      this.suppressed++;
      return;
    }
    const suffix = this.suppressed > 0 ? ` (${this.suppressed} more like it since the last report)` : '';
    this.logger[this.level](message + suffix);
    this.suppressed = 0;
    this.nextAllowedMs = nowMs + this.intervalMs;
  }
}
