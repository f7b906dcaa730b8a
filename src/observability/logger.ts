/**
 * The logging interface every layer takes. The daemon passes a winston logger (which satisfies it); library
 * code and tests can pass `silentLogger` or a recording one. Messages are plain sentences; structured details go
 * in `meta`.
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
