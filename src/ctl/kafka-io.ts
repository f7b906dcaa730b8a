/**
 * forwarder-ctl's Kafka operations, on the project's Kafka layer: sending commands (KafkaProducer), reading a
 * stored stream set (StreamStore.retrieve) and reading a topic by assignment (no consumer group offsets are
 * committed, so the tool never disturbs anyone). Unlike the daemon, which retries forever, everything here is
 * bounded by the access's time-out and fails with one clear CtlError.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import {
  type ConnectRetry,
  connectWithRetry,
  KafkaClientCreationError,
  logClientErrors,
} from '../kafka/connect.js';
import { KafkaProducer } from '../kafka/producer.js';
import type { Logger } from '../logging/logger.js';
import { StorageTopicError } from '../storage/restore.js';
import { StreamStore } from '../storage/store.js';
import { CtlError, UsageError } from './errors.js';
import type { KafkaAccess } from './kafka-access.js';

const { KafkaConsumer } = rdkafka;

/**
 * What the Kafka layer logs. Errors are kept to explain a failure in one line (the layer logs each failed
 * connection attempt and the client's own error events); warnings go to `warn`.
 */
export class ClientLog implements Logger {
  readonly errors: string[] = [];

  constructor(private readonly onWarning: (message: string) => void = () => undefined) {}

  error(message: string): void {
    this.errors.push(message);
  }

  warn(message: string): void {
    this.onWarning(message);
  }

  info(): void {}

  debug(): void {}

  /**
   * Why connecting failed, as far as the client said: its last error event (authentication, TLS, transport),
   * else the reason the last connection attempt gave.
   */
  failureReason(): string | undefined {
    const events = this.errors.filter((message) => !ATTEMPT_FAILED.test(message));
    if (events.length > 0) return withoutRole(events.at(-1) ?? '');
    return this.errors
      .map((message) => ATTEMPT_FAILED.exec(message)?.[1])
      .findLast((reason) => reason !== undefined);
  }
}

/** How the Kafka layer logs a failed connection attempt; group 1 is the reason. */
const ATTEMPT_FAILED = /could not connect \(attempt \d+\): (.*); retrying/;

/** One connection attempt, bounded by the time-out. */
function singleAttempt(access: KafkaAccess): ConnectRetry {
  return { attemptTimeoutMs: access.timeoutMs, retryDelayMs: 0, cancelled: () => true };
}

/** Why connecting failed: settings librdkafka refuses (a usage mistake), or a broker that did not answer. */
function connectFailure(error: unknown, access: KafkaAccess, log: ClientLog): Error {
  if (error instanceof KafkaClientCreationError) return new UsageError(withoutRole(error.message));
  const reason = log.failureReason();
  return new CtlError(
    `cannot connect to Kafka at ${access.uri.brokers} within ${access.timeoutMs / 1000} s` +
      (reason === undefined ? '' : ` (${reason})`),
  );
}

/** The Kafka layer starts its messages with the client's role ("Kafka consumer: "), which means nothing here. */
function withoutRole(message: string): string {
  return message.replace(/^Kafka [a-z ]+: /, '');
}

async function openConsumer(access: KafkaAccess, log: ClientLog): Promise<RdKafka.KafkaConsumer> {
  const consumer = new KafkaConsumer(
    { ...access.config, 'group.id': `forwarder-ctl-${randomUUID()}`, 'enable.auto.commit': false },
    {},
  );
  logClientErrors(consumer, 'consumer', log);
  try {
    await connectWithRetry(consumer, 'consumer', log, singleAttempt(access));
  } catch (error) {
    throw connectFailure(error, access, log);
  }
  return consumer;
}

async function closeConsumer(consumer: RdKafka.KafkaConsumer): Promise<void> {
  // A consumer's disconnect takes only a callback (the producer's also takes a time-out).
  await new Promise<void>((resolveDisconnect) => consumer.disconnect(() => resolveDisconnect()));
}

async function partitionsOf(
  consumer: RdKafka.KafkaConsumer,
  access: KafkaAccess,
  topic: string,
): Promise<number[]> {
  const metadata = await new Promise<RdKafka.Metadata>((resolveMetadata, rejectMetadata) =>
    consumer.getMetadata({ topic, timeout: access.timeoutMs }, (error, data) =>
      error
        ? rejectMetadata(new CtlError(`cannot read the metadata of topic ${topic}: ${error.message}`))
        : resolveMetadata(data),
    ),
  );
  const partitions = metadata.topics.find((each) => each.name === topic)?.partitions ?? [];
  if (partitions.length === 0) throw new CtlError(`topic ${topic} does not exist on ${access.uri.brokers}`);
  return partitions.map((partition) => partition.id).sort((a, b) => a - b);
}

/** Connects, checks that the topic exists (a mistyped topic is an error, not a silently created topic). */
async function checkTopic(access: KafkaAccess, topic: string, log: ClientLog): Promise<void> {
  const consumer = await openConsumer(access, log);
  try {
    await partitionsOf(consumer, access, topic);
  } finally {
    await closeConsumer(consumer);
  }
}

/** Sends the messages to the topic, unkeyed, and waits until Kafka acknowledged every one. */
export async function sendMessages(
  access: KafkaAccess,
  topic: string,
  payloads: readonly Uint8Array[],
  log: ClientLog,
): Promise<void> {
  await checkTopic(access, topic, log);
  let producer: KafkaProducer;
  try {
    producer = await KafkaProducer.create(
      { 'message.timeout.ms': String(access.timeoutMs), ...access.config },
      'producer',
      log,
      singleAttempt(access),
    );
  } catch (error) {
    throw connectFailure(error, access, log);
  }
  for (const payload of payloads) producer.send(topic, null, payload, Date.now());
  await producer.close(access.timeoutMs);
  const failed = payloads.length - producer.counters.delivered;
  if (failed > 0) {
    const reason = withoutRole(log.errors.at(-1) ?? 'no acknowledgement');
    throw new CtlError(`${failed} of ${payloads.length} messages were not delivered to ${topic}: ${reason}`);
  }
}

/** The newest stored stream set on a storage topic (an fc00 or rf5k message), or undefined when there is none. */
export async function readStoredStreams(
  access: KafkaAccess,
  topic: string,
  log: ClientLog,
): Promise<Uint8Array | undefined> {
  await checkTopic(access, topic, log);
  try {
    return await StreamStore.retrieve(access.config, topic, log, singleAttempt(access));
  } catch (error) {
    if (error instanceof StorageTopicError) throw new CtlError(error.message);
    throw new CtlError(`cannot read storage topic ${topic}: ${(error as Error).message}`);
  }
}

export type StartAt = 'beginning' | 'end' | { readonly sinceMs: number };

export interface ReadOptions {
  readonly start: StartAt;
  /** Stop once every partition is read up to where it ended when reading began; otherwise wait for more. */
  readonly stopAtEnd: boolean;
  /** Stops reading (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Called once every partition is read up to where it ended when reading began. */
  readonly onCaughtUp?: () => void;
  /** Awaited after each batch of messages, so that reading keeps to the pace of the output. */
  readonly pace?: () => Promise<void>;
  /** Called for each message, in order within a partition; returns whether to go on reading. */
  readonly onMessage: (message: RdKafka.Message) => boolean;
}

/** How long one consume call waits for messages: short, so a stop request is seen quickly. */
const CONSUME_WAIT_MS = 250;
/**
 * Most messages one consume call asks for. The binding's batch consume returns only when it has the whole batch or
 * one wait passes with nothing new, so on a topic that keeps trickling it would hold messages back until the batch
 * fills: batches therefore never ask for more than what is left up to the end mark, and one at a time after it.
 */
const CONSUME_BATCH = 500;

/** Reads every partition of a topic from `start`; resolves when done, stopped, or at the end. */
export async function readTopic(
  access: KafkaAccess,
  topic: string,
  options: ReadOptions,
  log: ClientLog,
): Promise<void> {
  const consumer = await openConsumer(access, log);
  try {
    const partitions = await partitionsOf(consumer, access, topic);
    const marks = new Map<number, RdKafka.WatermarkOffsets>();
    for (const partition of partitions)
      marks.set(partition, await watermarks(consumer, access, topic, partition));
    const ends = new Map(partitions.map((partition) => [partition, marks.get(partition)?.highOffset ?? 0]));
    const starts = await startOffsets(consumer, access, topic, options.start, marks);
    const positions = new Map(starts);
    consumer.assign([...starts].map(([partition, offset]) => ({ topic, partition, offset })));
    consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
    const remaining = (): number =>
      partitions.reduce(
        (sum, partition) => sum + Math.max(0, (ends.get(partition) ?? 0) - (positions.get(partition) ?? 0)),
        0,
      );
    const atEnd = (): boolean => remaining() === 0;
    let lastProgress = Date.now();
    let caughtUp = false;
    while (!options.signal?.aborted) {
      if (!caughtUp && atEnd()) {
        caughtUp = true;
        options.onCaughtUp?.();
        if (options.stopAtEnd) break;
      }
      const batch = await new Promise<RdKafka.Message[]>((resolveConsume, rejectConsume) =>
        consumer.consume(caughtUp ? 1 : Math.min(CONSUME_BATCH, remaining()), (error, messages) =>
          error
            ? rejectConsume(new CtlError(`cannot read topic ${topic}: ${error.message}`))
            : resolveConsume(messages),
        ),
      );
      for (const message of batch) {
        positions.set(message.partition, message.offset + 1);
        if (!options.onMessage(message)) return;
      }
      if (batch.length > 0) {
        await options.pace?.();
        lastProgress = Date.now();
      } else if (!caughtUp) {
        // Offsets taken by transaction markers or compaction hold no message: ask the consumer where it is.
        for (const { partition, offset } of consumer.position()) {
          if (offset >= 0) positions.set(partition, Math.max(offset, positions.get(partition) ?? 0));
        }
        if (options.stopAtEnd && !atEnd() && Date.now() - lastProgress > access.timeoutMs) {
          throw new CtlError(
            `reading topic ${topic} stalled: nothing arrived for ${access.timeoutMs / 1000} s`,
          );
        }
      }
    }
  } finally {
    await closeConsumer(consumer);
  }
}

async function watermarks(
  consumer: RdKafka.KafkaConsumer,
  access: KafkaAccess,
  topic: string,
  partition: number,
): Promise<RdKafka.WatermarkOffsets> {
  return new Promise((resolveOffsets, rejectOffsets) =>
    consumer.queryWatermarkOffsets(topic, partition, access.timeoutMs, (error, offsets) =>
      error
        ? rejectOffsets(
            new CtlError(`cannot read the offsets of ${topic} partition ${partition}: ${error.message}`),
          )
        : resolveOffsets(offsets),
    ),
  );
}

async function startOffsets(
  consumer: RdKafka.KafkaConsumer,
  access: KafkaAccess,
  topic: string,
  start: StartAt,
  marks: ReadonlyMap<number, RdKafka.WatermarkOffsets>,
): Promise<Map<number, number>> {
  const partitions = [...marks.keys()];
  const at = (which: 'lowOffset' | 'highOffset'): Map<number, number> =>
    new Map(partitions.map((partition) => [partition, marks.get(partition)?.[which] ?? 0]));
  if (start === 'end') return at('highOffset');
  if (start === 'beginning') return at('lowOffset');
  const found = await new Promise<RdKafka.TopicPartitionOffset[]>((resolveOffsets, rejectOffsets) =>
    consumer.offsetsForTimes(
      partitions.map((partition) => ({ topic, partition, offset: start.sinceMs })),
      access.timeoutMs,
      (error, offsets) =>
        error
          ? rejectOffsets(new CtlError(`cannot find the offsets of ${topic} by time: ${error.message}`))
          : resolveOffsets(offsets),
    ),
  );
  // No message at or after the time: start at the end.
  const ends = at('highOffset');
  return new Map(
    partitions.map((partition) => {
      const offset = found.find((each) => each.partition === partition)?.offset ?? -1;
      return [partition, offset >= 0 ? offset : (ends.get(partition) ?? 0)];
    }),
  );
}
