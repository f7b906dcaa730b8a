import type { Logger } from './logger.js';

export type LimitedLevel = 'error' | 'warn' | 'info';

export interface RateLimit {
  /** Messages let through per interval. */
  readonly limit?: number;
  /** What the held-back messages are, in the report: "more like it" by default. */
  readonly subject?: string;
}

/**
 * Logs a recurring problem at most `limit` times per interval and counts the rest, so a PV that fails on every
 * update, or an IOC refusing thousands of channels at once, cannot flood the log. The count is reported with the
 * next message let through, or by `flush()` once the interval is over, so nothing goes unmentioned.
 */
export class RateLimitedLog {
  private readonly limit: number;
  private readonly subject: string;
  private windowStart = Number.NEGATIVE_INFINITY;
  private passed = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly level: LimitedLevel,
    private readonly intervalMs = 60_000,
    { limit = 1, subject = 'like it' }: RateLimit = {},
  ) {
    this.limit = limit;
    this.subject = subject;
  }

  log(message: string, nowMs: number = Date.now(), level: LimitedLevel = this.level): void {
    if (nowMs - this.windowStart >= this.intervalMs) {
      this.windowStart = nowMs;
      this.passed = 0;
    }
    if (this.passed >= this.limit) {
      this.suppressed++;
      return;
    }
    this.passed++;
    const suffix =
      this.suppressed > 0 ? ` (${this.suppressed} more ${this.subject} since the last report)` : '';
    this.suppressed = 0;
    this.logger[level](message + suffix);
  }

  /** Reports what was held back, once the interval is over and no message has carried the count (call now and then). */
  flush(nowMs: number = Date.now()): void {
    if (this.suppressed === 0 || nowMs - this.windowStart < this.intervalMs) return;
    this.logger.warn(
      `${this.suppressed} more ${this.subject} in the last ${this.intervalMs / 1000} s (not logged)`,
    );
    this.suppressed = 0;
    this.windowStart = nowMs;
    this.passed = 0;
  }
}
