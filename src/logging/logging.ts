/**
 * The daemon's logger: winston writing plain lines to stderr, or to `--log-file` instead, and, with
 * `--graylog-logger-address`, GELF records to Graylog as well. Secrets never reach any of them (log-format.ts).
 * The log file can be reopened (on SIGHUP, after logrotate moved it away).
 */
import { closeSync, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import winston from 'winston';
import { GelfTransport, type GelfStats, type GraylogAddress } from './gelf-transport.js';
import { plainLine, stampTime } from './log-format.js';

/** The levels the Logger interface has; the daemon logs at nothing else. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The launcher's --verbosity levels, as the ESS forwarder names them. */
export type Verbosity = 'Trace' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Critical';

/**
 * `--verbosity` to the lowest level logged. Trace has no level below debug to map to, and Critical none above
 * error, so Trace logs what Debug does and Critical what Error does.
 */
export const LOG_LEVEL_FOR_VERBOSITY: Readonly<Record<Verbosity, LogLevel>> = {
  Trace: 'debug',
  Debug: 'debug',
  Info: 'info',
  Warning: 'warn',
  Error: 'error',
  Critical: 'error',
};

export interface LoggingOptions {
  readonly verbosity: Verbosity;
  /** Write lines here (appending) instead of stderr. Its directory must exist. */
  readonly logFile?: string;
  /** Also send every record to Graylog as GELF. */
  readonly graylog?: GraylogAddress;
  /** `_service_id` of GELF records. */
  readonly serviceId: string;
  /** GELF `host`; default: this machine's host name. */
  readonly hostName?: string;
}

export interface Logging {
  /** A winston logger; satisfies the Logger interface every layer takes. */
  readonly logger: winston.Logger;
  /** Counters of the Graylog transport; undefined without Graylog. */
  readonly graylogStats: GelfStats | undefined;
  /**
   * Opens the log file again by its name, so that lines go to a new file once logrotate moved the old one away.
   * Throws LogFileError when it cannot (the old file is kept); false when logging to stderr (nothing to reopen).
   */
  reopen(): boolean;
  /** Writes out what is pending (Graylog: at most GRAYLOG_FLUSH_TIMEOUT_MS), then releases file and sockets. */
  close(): Promise<void>;
}

/** The log file cannot be opened (missing directory, no permission, a directory, ...). */
export class LogFileError extends Error {
  constructor(
    readonly path: string,
    cause: NodeJS.ErrnoException,
  ) {
    super(
      `cannot open log file '${path}': ${cause.code === 'ENOENT' ? 'no such directory' : cause.message}`,
      {
        cause,
      },
    );
    this.name = 'LogFileError';
  }
}

/** Shutdown waits at most this long for records still on their way to Graylog. */
export const GRAYLOG_FLUSH_TIMEOUT_MS = 1000;
/** And at most this long for winston to hand over what it holds. */
const LOGGER_FINISH_TIMEOUT_MS = 2000;

function openLogFile(path: string): WriteStream {
  let fd: number;
  try {
    // Opened here, synchronously, so that a bad path is an error at start-up rather than a lost log.
    fd = openSync(path, 'a');
  } catch (error) {
    throw new LogFileError(path, error as NodeJS.ErrnoException);
  }
  try {
    const stream = createWriteStream(path, { fd });
    stream.on('error', (error) => reportLoggingFailure(`writing ${path}`, error));
    return stream;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * The log file as one stream for winston, whose file underneath can be swapped: lines written before a reopen
 * finish in the old file, every later line goes to the new one.
 */
class ReopenableLogFile extends Writable {
  private file: WriteStream;

  constructor(private readonly path: string) {
    super();
    this.file = openLogFile(path);
  }

  reopen(): void {
    const next = openLogFile(this.path);
    const previous = this.file;
    this.file = next;
    previous.end();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // A failed write is reported by the file's error listener; logging itself carries on.
    this.file.write(chunk, () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.file.end(() => done());
  }
}

/** Last resort for failures of logging itself: one line on stderr, never an exception. */
function reportLoggingFailure(what: string, error: Error): void {
  process.stderr.write(`logging failed: ${what}: ${error.message}\n`);
}

function settled(emitter: NodeJS.EventEmitter, event: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** winston's default (npm) levels, whose methods the logger has. */
const NPM_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

/**
 * winston pushes even a disabled record through its stream pipeline before dropping it (several µs); checking
 * the level first makes a debug call in busy code nearly free while debug is off. The check reads the logger's
 * current level, so changing `logger.level` later still works.
 */
function skipDisabledLevels(logger: winston.Logger): void {
  for (const level of NPM_LEVELS) {
    const log = logger[level] as (this: winston.Logger, ...args: unknown[]) => winston.Logger;
    // Called on `this`, not bound: child loggers inherit these methods and must write through themselves.
    logger[level] = function (this: winston.Logger, ...args: unknown[]) {
      return this.isLevelEnabled(level) ? log.apply(this, args) : this;
    } as winston.LeveledLogMethod;
  }
}

/**
 * Builds the daemon's logger. Throws LogFileError when `logFile` cannot be opened for appending.
 */
export function createLogger(options: LoggingOptions): Logging {
  const file = options.logFile === undefined ? undefined : new ReopenableLogFile(options.logFile);
  const logger = winston.createLogger({
    level: LOG_LEVEL_FOR_VERBOSITY[options.verbosity],
    levels: winston.config.npm.levels,
    format: stampTime(),
    transports: [
      new winston.transports.Stream({ stream: file ?? process.stderr, format: plainLine(), eol: '\n' }),
    ],
    exitOnError: false,
  });
  const graylog =
    options.graylog === undefined
      ? undefined
      : new GelfTransport({
          address: options.graylog,
          serviceId: options.serviceId,
          ...(options.hostName === undefined ? {} : { hostName: options.hostName }),
          problemLogger: logger,
        });
  if (graylog !== undefined) logger.add(graylog);
  skipDisabledLevels(logger);
  // Without a listener, a write after close() or a transport failure would be an uncaught exception.
  logger.on('error', (error: Error) => reportLoggingFailure('logger', error));

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const finished = settled(logger, 'finish', LOGGER_FINISH_TIMEOUT_MS);
    logger.end();
    await finished;
    await Promise.all([
      graylog?.flush(GRAYLOG_FLUSH_TIMEOUT_MS),
      file === undefined ? undefined : new Promise<void>((resolve) => file.end(resolve)),
    ]);
  };
  return {
    logger,
    get graylogStats() {
      return graylog?.stats;
    },
    reopen: () => {
      file?.reopen();
      return file !== undefined;
    },
    close: () => (closing ??= close()),
  };
}
