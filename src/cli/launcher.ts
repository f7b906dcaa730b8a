/**
 * forwarder-launch: options from the command line, environment and config file; logging; the daemon; orderly
 * shutdown on SIGTERM/SIGINT (stop subscriptions, flush Kafka within a bounded time, exit 0). Resolves with the
 * process exit code: 0 after an orderly stop, 1 after a fatal error, 2 for a mistake in the settings (a usage
 * mistake, or one found when the settings are used: Kafka client settings librdkafka refuses, an HTTP address
 * this host cannot listen on, a storage topic that is not one).
 *
 * A stop asked for during start-up (connecting, waiting for topics, restoring) abandons it at once; the process
 * ends within START_UP_ABANDON_MS of the signal whatever start-up was waiting for. When a librdkafka request is
 * still under way then (a connection attempt waits up to 10 s for its answer), process.exit() would wait for it:
 * the process ends by the signal itself instead (LauncherOutcome), as a process without a handler for it would,
 * which systemd counts as a clean stop. A second SIGTERM or SIGINT ends the process without waiting for Kafka.
 * SIGHUP reopens the log file (after logrotate moved it away).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { blockingRequestsUnderWay } from '../kafka/connect.js';
import { createLogger, type Logging } from '../logging/logging.js';
import { SettingsError } from '../util/settings-error.js';
import { type Daemon, startDaemon } from './daemon.js';
import { parseLauncherArguments } from './options/resolve.js';

/** How long start-up may take to give up after a stop was asked for, before the process ends without it. */
export const START_UP_ABANDON_MS = 1_500;

/** Exit code of a stop forced by a second signal: Kafka may not have everything. */
const FORCED_STOP_EXIT_CODE = 1;

/** An exit code, or the signal the process should end by (its handler removed). */
export type LauncherOutcome = number | NodeJS.Signals;

export async function runLauncher(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<LauncherOutcome> {
  const parsed = parseLauncherArguments(argv, env);
  if (parsed.kind === 'exit') {
    (parsed.code === 0 ? process.stdout : process.stderr).write(
      parsed.output.endsWith('\n') ? parsed.output : `${parsed.output}\n`,
    );
    return parsed.code;
  }
  const { options } = parsed;
  let logging: Logging;
  try {
    logging = createLogger({
      verbosity: options.verbosity,
      serviceId: options.serviceId,
      ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
      ...(options.graylogLoggerAddress === undefined ? {} : { graylog: options.graylogLoggerAddress }),
    });
  } catch (error) {
    process.stderr.write(`forwarder-launch: ${(error as Error).message}\n`);
    return 2;
  }
  const { logger } = logging;
  const signals = new Signals(logging);

  let exitCode = 0;
  let daemon: Daemon | undefined;
  try {
    const starting = startDaemon(options, {
      logger,
      env,
      stopping: () => signals.stopRequested,
      shutdown: signals.shutdown.signal,
    });
    // Start-up abandoned in time leaves the promise to settle (or not) unobserved.
    starting.catch(() => undefined);
    const first = await Promise.race([starting, signals.firstStop.then(() => 'stop' as const)]);
    if (first === 'stop') {
      const abandoned = await Promise.race([
        starting.then(
          (started) => started,
          () => undefined,
        ),
        sleep(START_UP_ABANDON_MS, 'late' as const),
      ]);
      if (abandoned === 'late') {
        logger.warn(`Start-up did not end within ${START_UP_ABANDON_MS / 1000} s of the signal; leaving it`);
      } else daemon = abandoned;
    } else {
      daemon = first;
      const ended = await Promise.race([
        signals.firstStop.then((signal) => ({ signal })),
        daemon.failed.then((failure) => ({ failure })),
      ]);
      if ('failure' in ended) {
        // An orderly stop all the same, and exit code 1: the service manager starts the forwarder again.
        signals.stopForFailure();
        logger.error(`Fatal error: ${ended.failure}; stopping`);
        exitCode = 1;
      }
    }
  } catch (error) {
    if (error instanceof SettingsError) {
      // A mistake in the settings, not in the program: the message says it all, a stack trace would not help.
      logger.error(`Fatal error: ${error.message}`);
      exitCode = 2;
    } else if (!signals.stopRequested) {
      logger.error(`Fatal error: ${(error as Error).stack ?? String(error)}`);
      exitCode = 1;
    }
  }
  if (daemon) {
    const stopped = daemon.stop().then(() => 'stopped' as const);
    if ((await Promise.race([stopped, signals.secondStop])) !== 'stopped') {
      logger.warn(`Received ${await signals.secondStop} again: exiting without waiting for Kafka`);
      exitCode = FORCED_STOP_EXIT_CODE;
    }
  }
  signals.remove();
  // Start-up stopped in the middle of a librdkafka request: process.exit() would wait for its answer.
  const stuck = signals.stopRequested && daemon === undefined ? blockingRequestsUnderWay() : 0;
  logger.info(
    stuck === 0
      ? 'Forwarder stopped'
      : `Forwarder stopped; ending by the signal, without waiting for ${stuck} Kafka request(s) under way`,
  );
  await logging.close();
  return stuck > 0 ? await signals.firstStop : exitCode;
}

/** SIGTERM and SIGINT ask for a stop (a second one forces it), SIGHUP reopens the log file. */
class Signals {
  /** Aborts at the first stop signal: Kafka connection attempts and waits give up at once. */
  readonly shutdown = new AbortController();
  /** Resolve with the signal's name. */
  readonly firstStop: Promise<NodeJS.Signals>;
  readonly secondStop: Promise<NodeJS.Signals>;
  private stops = 0;
  private failed = false;
  private readonly resolvers: ((signal: NodeJS.Signals) => void)[] = [];

  constructor(private readonly logging: Logging) {
    this.firstStop = new Promise((resolveFirst) => this.resolvers.push(resolveFirst));
    this.secondStop = new Promise((resolveSecond) => this.resolvers.push(resolveSecond));
    process.on('SIGTERM', this.onStop);
    process.on('SIGINT', this.onStop);
    process.on('SIGHUP', this.onHangUp);
  }

  get stopRequested(): boolean {
    return this.stops > 0 || this.failed;
  }

  /** A fatal error asks for the same orderly stop as a signal. */
  stopForFailure(): void {
    this.failed = true;
    this.shutdown.abort();
  }

  remove(): void {
    process.off('SIGTERM', this.onStop);
    process.off('SIGINT', this.onStop);
    process.off('SIGHUP', this.onHangUp);
  }

  private readonly onStop = (signal: NodeJS.Signals): void => {
    if (this.stops === 0) {
      this.logging.logger.info(`Received ${signal}: stopping`);
      this.shutdown.abort();
    }
    this.resolvers[this.stops++]?.(signal);
  };

  private readonly onHangUp = (): void => {
    const { logger } = this.logging;
    try {
      if (this.logging.reopen()) logger.info('Received SIGHUP: reopened the log file');
      else logger.info('Received SIGHUP: logging to stderr, no log file to reopen');
    } catch (error) {
      logger.error(`Received SIGHUP, but ${(error as Error).message}; still writing to the old file`);
    }
  };
}
