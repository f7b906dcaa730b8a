/** Connecting librdkafka clients, and reading their errors, in one place. */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';
import { RateLimitedLog } from '../observability/rate-limited.js';

/**
 * librdkafka refused to create the client: its configuration is wrong (a CA file that holds no certificate,
 * properties that contradict each other, ...), and trying again cannot help.
 */
export class KafkaClientCreationError extends Error {
  override readonly name = 'KafkaClientCreationError';
}

/** The code the binding gives a connect() whose client librdkafka could not create. */
const CLIENT_NOT_CREATED = rdkafka.CODES.ERRORS.ERR__STATE;

/** What producers and consumers share, as far as connecting and error reporting go. */
interface Client {
  on(event: 'event.error', listener: (error: RdKafka.LibrdKafkaError) => void): unknown;
  on(event: 'event.log', listener: (entry: LibrdkafkaLogEntry) => void): unknown;
  connect(
    options: RdKafka.MetadataOptions,
    callback: (error: RdKafka.LibrdKafkaError | null) => void,
  ): unknown;
}

/** A line of librdkafka's own log, as the binding hands it over. */
interface LibrdkafkaLogEntry {
  /** syslog(3) level: 3 is an error, 4 a warning, 7 debug. */
  readonly severity: number;
  readonly fac: string;
  readonly message: string;
}

/** syslog's LOG_ERR: librdkafka's log lines at this level or worse are problems the operator must see. */
const LOG_ERR = 3;

/** How long one connection attempt may take, and the pause before the next. */
export interface ConnectRetry {
  readonly attemptTimeoutMs: number;
  readonly retryDelayMs: number;
  /** Gives up (rejects) once this returns true, e.g. when the process is shutting down. */
  readonly cancelled?: () => boolean;
}

export const DEFAULT_CONNECT_RETRY: ConnectRetry = { attemptTimeoutMs: 10_000, retryDelayMs: 5_000 };

/**
 * Logs the client's own error events and error-level log lines (authentication failures, brokers down, TLS
 * trouble), rate-limited per client; these say why a connection attempt failed, which the attempt's own error
 * ("broker transport failure") does not. A failed SASL authentication, for one, is only ever a log line.
 */
export function logClientErrors(client: Client, role: string, logger: Logger): void {
  const log = new RateLimitedLog(logger, 'error', 30_000);
  client.on('event.error', (error) => log.log(`Kafka ${role}: ${error.message}`));
  client.on('event.log', (entry) => {
    // The thread prefix ("[thrd:sasl_ssl://host:port/bootstrap]: ") repeats the broker the message names.
    if (entry.severity <= LOG_ERR)
      log.log(`Kafka ${role}: ${entry.message.replace(/^\[thrd:[^\]]*\]: /, '')}`);
  });
}

/**
 * Connects, retrying until it works: a Kafka cluster that is down or refuses us must not end the daemon. A
 * configuration librdkafka cannot create a client from is not retried: it throws KafkaClientCreationError.
 * Once `retry.cancelled` says so, it gives up within CANCEL_CHECK_MS, even in the middle of an attempt.
 */
export async function connectWithRetry(
  client: Client,
  role: string,
  logger: Logger,
  retry: ConnectRetry = DEFAULT_CONNECT_RETRY,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const error = await unlessCancelled(retry, connectOnce(client, retry.attemptTimeoutMs));
    if (error === CANCELLED) throw new Error(`Kafka ${role}: connecting cancelled`);
    if (error === undefined) {
      if (attempt > 1) logger.info(`Kafka ${role}: connected after ${attempt} attempts`);
      return;
    }
    if (error.code === CLIENT_NOT_CREATED) {
      throw new KafkaClientCreationError(`Kafka ${role}: invalid client configuration: ${error.message}`);
    }
    logger.error(
      `Kafka ${role}: could not connect (attempt ${attempt}): ${error.message}; ` +
        `retrying in ${retry.retryDelayMs / 1000} s`,
    );
    if ((await pauseBeforeRetry(retry)) === CANCELLED) throw new Error(`Kafka ${role}: connecting cancelled`);
  }
}

/** One attempt: resolves with its error, or undefined once connected. */
function connectOnce(client: Client, timeoutMs: number): Promise<RdKafka.LibrdKafkaError | undefined> {
  return new Promise((resolveAttempt) =>
    client.connect({ timeout: timeoutMs }, (error) => resolveAttempt(error ?? undefined)),
  );
}

export const CANCELLED = Symbol('cancelled');
/** How often waits check `retry.cancelled`, so that a shutdown need not wait out an attempt or a pause. */
const CANCEL_CHECK_MS = 200;

/** Resolves with `work`'s result, or with CANCELLED as soon as `retry.cancelled` returns true. */
export async function unlessCancelled<T>(
  retry: ConnectRetry,
  work: Promise<T>,
): Promise<T | typeof CANCELLED> {
  const { cancelled } = retry;
  if (cancelled === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const cancellation = new Promise<typeof CANCELLED>((resolveCancelled) => {
    timer = setInterval(() => {
      if (cancelled()) resolveCancelled(CANCELLED);
    }, CANCEL_CHECK_MS);
  });
  try {
    return await Promise.race([work, cancellation]);
  } finally {
    clearInterval(timer);
  }
}

/** The pause between attempts (`retry.retryDelayMs`); CANCELLED when `retry.cancelled` ends it early. */
export async function pauseBeforeRetry(retry: ConnectRetry): Promise<'elapsed' | typeof CANCELLED> {
  const ended = new AbortController();
  try {
    return await unlessCancelled(
      retry,
      sleep(retry.retryDelayMs, 'elapsed' as const, { signal: ended.signal }),
    );
  } finally {
    // A cancelled pause must not hold the process open until its time is up.
    ended.abort();
  }
}
