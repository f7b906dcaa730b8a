/** Connecting librdkafka clients, and reading their errors, in one place. */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
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
  connect(
    options: RdKafka.MetadataOptions,
    callback: (error: RdKafka.LibrdKafkaError | null) => void,
  ): unknown;
}

/** How long one connection attempt may take, and the pause before the next. */
export interface ConnectRetry {
  readonly attemptTimeoutMs: number;
  readonly retryDelayMs: number;
  /** Gives up (rejects) once this returns true, e.g. when the process is shutting down. */
  readonly cancelled?: () => boolean;
}

export const DEFAULT_CONNECT_RETRY: ConnectRetry = { attemptTimeoutMs: 10_000, retryDelayMs: 5_000 };

/**
 * Logs the client's own error events (authentication failures, brokers down, TLS trouble), rate-limited per
 * client; these say why a connection attempt failed, which the attempt's own error does not.
 */
export function logClientErrors(client: Client, role: string, logger: Logger): void {
  const log = new RateLimitedLog(logger, 'error', 30_000);
  client.on('event.error', (error) => log.log(`Kafka ${role}: ${error.message}`));
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
    try {
      await new Promise<void>((resolveConnect, rejectConnect) => {
        client.connect({ timeout: retry.attemptTimeoutMs }, (error) =>
          error ? rejectConnect(error) : resolveConnect(),
        );
      });
      if (attempt > 1) logger.info(`Kafka ${role}: connected after ${attempt} attempts`);
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code === CLIENT_NOT_CREATED) {
        throw new KafkaClientCreationError(
          `Kafka ${role}: invalid client configuration: ${(error as Error).message}`,
        );
      }
      logger.error(
        `Kafka ${role}: could not connect (attempt ${attempt}): ${(error as Error).message}; ` +
          `retrying in ${retry.retryDelayMs / 1000} s`,
      );
    }
    await pauseUnlessCancelled(retry);
    if (retry.cancelled?.()) throw new Error(`Kafka ${role}: connecting cancelled`);
  }
}

/** How often a pause between attempts checks for cancellation, so that shutdown need not wait it out. */
const CANCEL_CHECK_MS = 200;

async function pauseUnlessCancelled(retry: ConnectRetry): Promise<void> {
  const until = Date.now() + retry.retryDelayMs;
  for (let left = retry.retryDelayMs; left > 0 && !retry.cancelled?.(); left = until - Date.now()) {
    await new Promise((resolveDelay) => setTimeout(resolveDelay, Math.min(left, CANCEL_CHECK_MS)));
  }
}
