/** Connecting librdkafka clients, and reading their errors, in one place. */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import { RateLimitedLog } from '../logging/rate-limited.js';
import { SettingsError } from '../util/settings-error.js';

/**
 * librdkafka refused to create the client: its configuration is wrong (a CA file that holds no certificate,
 * properties that contradict each other, ...), and trying again cannot help.
 */
export class KafkaClientCreationError extends SettingsError {
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
/** syslog's LOG_WARNING, and the facility of a consumer's offset reset: a consumer skipping or re-reading messages. */
const LOG_WARNING = 4;
const OFFSET_RESET_FACILITY = 'OFFSET';

/** How long one connection attempt may take, the pause before the next, and when to give up. */
export interface ConnectRetry {
  readonly attemptTimeoutMs: number;
  readonly retryDelayMs: number;
  /** Gives up (rejects) after a failed attempt once this returns true: no further attempts. */
  readonly cancelled?: () => boolean;
  /** Gives up (rejects) as soon as this aborts, even in the middle of an attempt or a pause: for shutdown. */
  readonly abort?: AbortSignal;
}

export const DEFAULT_CONNECT_RETRY: ConnectRetry = { attemptTimeoutMs: 10_000, retryDelayMs: 5_000 };

/**
 * Logs the client's own error events and error-level log lines (authentication failures, brokers down, TLS
 * trouble), rate-limited per client; these say why a connection attempt failed, which the attempt's own error
 * ("broker transport failure") does not. A failed SASL authentication, for one, is only ever a log line. A
 * consumer's offset reset (its position was lost: it skips to the end, so messages may be missed) is only a
 * warning line in librdkafka's log, and is logged as a warning.
 */
export function logClientErrors(client: Client, role: string, logger: Logger): void {
  const errors = new RateLimitedLog(logger, 'error', 30_000);
  const offsetResets = new RateLimitedLog(logger, 'warn', 30_000);
  client.on('event.error', (error) => errors.log(`Kafka ${role}: ${error.message}`));
  client.on('event.log', (entry) => {
    // The thread prefix ("[thrd:sasl_ssl://host:port/bootstrap]: ") repeats the broker the message names.
    const message = () => `Kafka ${role}: ${entry.message.replace(/^\[thrd:[^\]]*\]: /, '')}`;
    if (entry.severity <= LOG_ERR) errors.log(message());
    else if (entry.severity === LOG_WARNING && entry.fac === OFFSET_RESET_FACILITY)
      offsetResets.log(message());
  });
}

/**
 * Connects, retrying until it works: a Kafka cluster that is down or refuses us must not end the daemon. A
 * configuration librdkafka cannot create a client from is not retried: it throws KafkaClientCreationError.
 */
export async function connectWithRetry(
  client: Client,
  role: string,
  logger: Logger,
  retry: ConnectRetry = DEFAULT_CONNECT_RETRY,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const error = await unlessAborted(retry.abort, connectOnce(client, retry.attemptTimeoutMs));
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
  return blockingRequest(
    new Promise((resolveAttempt) =>
      client.connect({ timeout: timeoutMs }, (error) => resolveAttempt(error ?? undefined)),
    ),
  );
}

let requestsUnderWay = 0;

/**
 * A librdkafka request that waits on one of libuv's worker threads until it is answered or times out (connecting,
 * metadata, offsets). Nothing can abandon it, and the process cannot end by process.exit() before it is over:
 * libuv waits for its threads. Wrapped here, such requests are counted, so that a stop asked for in the middle of
 * one can end the process another way.
 */
export async function blockingRequest<T>(request: Promise<T>): Promise<T> {
  requestsUnderWay++;
  try {
    return await request;
  } finally {
    requestsUnderWay--;
  }
}

/** How many blockingRequest()s have not ended yet. */
export function blockingRequestsUnderWay(): number {
  return requestsUnderWay;
}

export const CANCELLED = Symbol('cancelled');

/** Resolves with `work`'s result, or with CANCELLED as soon as `signal` aborts. */
export async function unlessAborted<T>(
  signal: AbortSignal | undefined,
  work: Promise<T>,
): Promise<T | typeof CANCELLED> {
  if (signal === undefined) return work;
  if (signal.aborted) return CANCELLED;
  let onAbort = (): void => undefined;
  const aborted = new Promise<typeof CANCELLED>((resolveAborted) => {
    onAbort = () => resolveAborted(CANCELLED);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The pause between attempts (`retry.retryDelayMs`); CANCELLED without a pause when `retry.cancelled` says so,
 * or as soon as `retry.abort` aborts.
 */
export async function pauseBeforeRetry(retry: ConnectRetry): Promise<'elapsed' | typeof CANCELLED> {
  if (retry.cancelled?.() || retry.abort?.aborted) return CANCELLED;
  try {
    return await sleep(retry.retryDelayMs, 'elapsed' as const, { signal: retry.abort });
  } catch (error) {
    if (retry.abort?.aborted) return CANCELLED;
    throw error;
  }
}
