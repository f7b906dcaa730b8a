/**
 * Keeps a consumer polled for as long as it runs.
 *
 * The binding's flowing mode (`consume()` without a count) ends for good on the first error a poll hands back, and
 * cannot be started again: the consumer stays connected and reads nothing more, without a word. librdkafka hands
 * such errors to the application on its own, from a coordinator lookup that fails while a broker restarts to an
 * offset it cannot fetch. This loop reports each error and polls on.
 *
 * Each poll takes what is ready without waiting, so no libuv pool thread is held while nothing arrives; between
 * empty polls the loop sleeps on a timer, which bounds how late a message is handed over.
 */
import type { RdKafka } from '@confluentinc/kafka-javascript';
import type { Logger } from '../logging/logger.js';
import { RateLimitedLog } from '../logging/rate-limited.js';

/** The part of a KafkaConsumer the loop uses. */
export interface PolledConsumer {
  setDefaultConsumeTimeout(timeoutMs: number): void;
  consume(
    count: number,
    callback: (error: RdKafka.LibrdKafkaError, messages: RdKafka.Message[]) => void,
  ): void;
}

export interface PollLoopOptions {
  /** Pause after a poll that found less than a full batch. */
  readonly intervalMs?: number;
  /** Most messages one poll hands over; after a full batch the next poll follows at once. */
  readonly batch?: number;
}

export const DEFAULT_POLL_INTERVAL_MS = 100;
const DEFAULT_BATCH = 500;

export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Settles when the poll under way (if any) has called back: the consumer may be closed after that. */
  private inFlight: Promise<void> = Promise.resolve();
  private readonly intervalMs: number;
  private readonly batch: number;

  constructor(
    private readonly consumer: PolledConsumer,
    private readonly onMessage: (message: RdKafka.Message) => void,
    private readonly onError: (error: RdKafka.LibrdKafkaError) => void,
    options: PollLoopOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.batch = options.batch ?? DEFAULT_BATCH;
  }

  start(): void {
    this.consumer.setDefaultConsumeTimeout(0);
    this.poll();
  }

  /** No poll starts and nothing is handed over after this; resolves once the poll under way (if any) is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  private poll(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.inFlight = new Promise((settle) => {
      this.consumer.consume(this.batch, (error, messages) => {
        settle();
        if (this.stopped) return;
        // The next poll is set up first, so that a handler that throws cannot end the loop.
        const full = !error && messages.length >= this.batch;
        this.timer = setTimeout(() => this.poll(), full ? 0 : this.intervalMs);
        if (error) this.onError(error);
        else for (const message of messages) this.onMessage(message);
      });
    });
  }
}

/** An error handler for a PollLoop: logs what a poll handed back, at most every 30 s per consumer. */
export function logPollErrors(role: string, logger: Logger): (error: RdKafka.LibrdKafkaError) => void {
  const log = new RateLimitedLog(logger, 'error', 30_000);
  return (error) => log.log(`Kafka ${role}: ${error.message} (polling on)`);
}
