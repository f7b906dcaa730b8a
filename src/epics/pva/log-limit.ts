/**
 * Per-channel events can come by the thousand (an IOC refusing 10,000 monitors, a listener throwing on every
 * update): this lets the first few through per window and then reports how many it held back, so the log stays
 * readable and cheap while nothing goes unmentioned.
 */
import type { Logger } from '../../logging/logger.js';

export type LogLevel = 'error' | 'warn' | 'info';

export class LogLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private passed = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly limit = 20,
    private readonly windowMs = 10_000,
  ) {}

  log(level: LogLevel, message: string, nowMs = Date.now()): void {
    this.roll(nowMs);
    if (this.passed < this.limit) {
      this.passed++;
      this.logger[level](message);
    } else {
      this.suppressed++;
    }
  }

  /** Ends the window if it is over, reporting what was held back (call periodically). */
  roll(nowMs = Date.now()): void {
    if (nowMs - this.windowStart < this.windowMs) return;
    if (this.suppressed > 0) {
      this.logger.warn(
        `${this.suppressed} further pvAccess client messages suppressed in ${this.windowMs / 1000} s`,
      );
    }
    this.windowStart = nowMs;
    this.passed = 0;
    this.suppressed = 0;
  }
}
