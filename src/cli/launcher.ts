/**
 * forwarder-launch: options from the command line, environment and config file; logging; the daemon; orderly
 * shutdown on SIGTERM/SIGINT (stop subscriptions, flush Kafka within a bounded time, exit 0). Resolves with the
 * process exit code: 0 after an orderly stop, 1 after a fatal error, 2 for a usage mistake (including Kafka client
 * settings that librdkafka refuses when the client is created).
 */
import { KafkaClientCreationError } from '../kafka/connect.js';
import { createLogger } from '../logging/logging.js';
import { type Daemon, startDaemon } from './daemon.js';
import { parseLauncherArguments } from './options/resolve.js';

export async function runLauncher(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseLauncherArguments(argv, env);
  if (parsed.kind === 'exit') {
    (parsed.code === 0 ? process.stdout : process.stderr).write(
      parsed.output.endsWith('\n') ? parsed.output : `${parsed.output}\n`,
    );
    return parsed.code;
  }
  const { options } = parsed;
  let logging: Awaited<ReturnType<typeof createLogger>>;
  try {
    logging = await createLogger({
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

  let stopRequested: (signal: string) => void = () => undefined;
  const stopSignal = new Promise<string>((resolveStop) => (stopRequested = resolveStop));
  let stopping = false;
  const shutdown = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    shutdown.abort();
    stopRequested(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let exitCode = 0;
  let daemon: Daemon | undefined;
  try {
    daemon = await startDaemon(options, { logger, env, stopping: () => stopping, shutdown: shutdown.signal });
    const ended = await Promise.race([
      stopSignal.then((signal) => ({ signal })),
      daemon.failed.then((failure) => ({ failure })),
    ]);
    if ('failure' in ended) {
      // An orderly stop all the same, and exit code 1: the service manager starts the forwarder again.
      stopping = true;
      shutdown.abort();
      logger.error(`Fatal error: ${ended.failure}; stopping`);
      exitCode = 1;
    } else logger.info(`Received ${ended.signal}: stopping`);
  } catch (error) {
    if (error instanceof KafkaClientCreationError) {
      // A mistake in the settings, not in the program: the message says it all, a stack trace would not help.
      logger.error(`Fatal error: ${error.message}`);
      exitCode = 2;
    } else if (!stopping) {
      logger.error(`Fatal error: ${(error as Error).stack ?? String(error)}`);
      exitCode = 1;
    }
  } finally {
    if (daemon) await daemon.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    logger.info('Forwarder stopped');
    await logging.close();
  }
  return exitCode;
}
