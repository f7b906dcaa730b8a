/**
 * The logging interface every layer takes. The daemon passes a winston logger (which satisfies it) built by
 * `createLogger` in logging.ts; library code and tests can pass `silentLogger` or a recording one. Messages are
 * plain sentences; structured details go in `meta` (values whose key mentions a password or secret are hidden,
 * and so is the value of `...password=...` text in messages). A debug call costs next to nothing while debug is
 * off, but still: no logging per update.
 */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

const ignore = (): void => undefined;

/** A logger that drops everything. */
export const silentLogger: Logger = { error: ignore, warn: ignore, info: ignore, debug: ignore };
