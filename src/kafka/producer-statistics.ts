/**
 * What a producer learns from librdkafka's statistics (`statistics.interval.ms`, the JSON of STATISTICS.md)
 * instead of from a delivery report per message: how many messages librdkafka still holds, and how long messages
 * wait in its queues and for the brokers. With `delivery.report.only.error` librdkafka reports failures only, so
 * the number delivered is derived: produced − still held − failed.
 */

/** Quantiles of one latency window, in seconds. */
export interface LatencyQuantiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * The stages of a message's way from produce() to its acknowledgement, over the last statistics interval; for
 * several brokers, the slowest broker's figure of each. A stage is absent when no broker sampled it.
 */
export interface ProducerLatency {
  /** From produce() until the message joins a produce request (includes linger.ms): librdkafka's int_latency. */
  readonly queue?: LatencyQuantiles;
  /** From a produce request being ready until it is written to the socket: outbuf_latency. */
  readonly outbuf?: LatencyQuantiles;
  /** From a request written until the broker's response (the acknowledgement of produce requests): rtt. */
  readonly rtt?: LatencyQuantiles;
}

export const LATENCY_STAGES = ['queue', 'outbuf', 'rtt'] as const;

/** One partition's messages: produced to it by this producer, and of those still held (queued or in flight). */
export interface PartitionMessages {
  readonly produced: number;
  readonly held: number;
}

/** A topic's partition count (0 while its metadata is unknown) and its partitions' messages. */
export interface TopicMessages {
  readonly partitionCount: number;
  readonly partitions: ReadonlyMap<number, PartitionMessages>;
}

export interface ProducerStatistics {
  /** librdkafka's monotonic clock when it took the statistics, µs (CLOCK_MONOTONIC on Linux). */
  readonly takenAtUs: number;
  /**
   * `msg_cnt`: messages produced and not yet released, i.e. waiting, in flight to a broker, or failed with their
   * report not yet handed over. librdkafka reads it just before `ts`. Acknowledged messages are released at once
   * when only failures are reported.
   */
  readonly messagesHeld: number;
  readonly latency: ProducerLatency;
  /** Per topic: what each partition holds, for following which messages are done. */
  readonly topics: ReadonlyMap<string, TopicMessages>;
}

export class StatisticsError extends Error {}

/** The broker window fields each stage is read from. */
const STAGE_FIELDS: Readonly<Record<(typeof LATENCY_STAGES)[number], string>> = {
  queue: 'int_latency',
  outbuf: 'outbuf_latency',
  rtt: 'rtt',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(record: Record<string, unknown>, field: string): number {
  const value = record[field];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new StatisticsError(`librdkafka statistics without a numeric ${field}`);
  return value;
}

/** The slowest broker's quantiles of a window field (µs in the JSON), or undefined when none has samples. */
function slowest(brokers: readonly Record<string, unknown>[], field: string): LatencyQuantiles | undefined {
  let worst: { p50: number; p99: number; max: number } | undefined;
  for (const broker of brokers) {
    const window = broker[field];
    if (!isRecord(window) || !(typeof window['cnt'] === 'number' && window['cnt'] > 0)) continue;
    const [p50, p99, max] = [integer(window, 'p50'), integer(window, 'p99'), integer(window, 'max')];
    worst = {
      p50: Math.max(worst?.p50 ?? 0, p50 / 1e6),
      p99: Math.max(worst?.p99 ?? 0, p99 / 1e6),
      max: Math.max(worst?.max ?? 0, max / 1e6),
    };
  }
  return worst;
}

/** Reads a producer's statistics JSON; StatisticsError when the fields used are missing. */
export function parseProducerStatistics(json: string): ProducerStatistics {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (error) {
    throw new StatisticsError(`librdkafka statistics are not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(document)) throw new StatisticsError('librdkafka statistics are not a JSON object');
  const brokers = isRecord(document['brokers']) ? Object.values(document['brokers']).filter(isRecord) : [];
  const latency: Partial<Record<(typeof LATENCY_STAGES)[number], LatencyQuantiles>> = {};
  for (const stage of LATENCY_STAGES) {
    const quantiles = slowest(brokers, STAGE_FIELDS[stage]);
    if (quantiles !== undefined) latency[stage] = quantiles;
  }
  return {
    takenAtUs: integer(document, 'ts'),
    messagesHeld: integer(document, 'msg_cnt'),
    latency,
    topics: topicMessages(document['topics']),
  };
}

/**
 * The topics' partitions. A partition's held messages are those waiting in its queue, in its broker's transmit queue
 * and in flight (`msgq_cnt + xmit_msgq_cnt + msgs_inflight`); the internal partition -1 holds messages of a topic
 * whose partitions are not known yet.
 */
function topicMessages(topics: unknown): Map<string, TopicMessages> {
  const out = new Map<string, TopicMessages>();
  if (!isRecord(topics)) return out;
  for (const [name, topic] of Object.entries(topics)) {
    if (!isRecord(topic) || !isRecord(topic['partitions'])) continue;
    const partitions = new Map<number, PartitionMessages>();
    let partitionCount = 0;
    for (const [id, partition] of Object.entries(topic['partitions'])) {
      if (!isRecord(partition)) continue;
      if (Number(id) >= 0 && partition['unknown'] !== true) partitionCount++;
      partitions.set(Number(id), {
        produced: integer(partition, 'msgs'),
        held:
          integer(partition, 'msgq_cnt') +
          integer(partition, 'xmit_msgq_cnt') +
          integer(partition, 'msgs_inflight'),
      });
    }
    out.set(name, { partitionCount, partitions });
  }
  return out;
}

/** Our reading of CLOCK_MONOTONIC in µs, the clock of librdkafka's `ts` on Linux. */
export function monotonicMicroseconds(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** librdkafka reads msg_cnt a moment before its clock: a count taken this much earlier was surely included. */
const SAMPLE_MARGIN_US = 10_000;
/** A `ts` this far from our clock means the clocks differ (librdkafka uses wall-clock time on some systems). */
const CLOCK_MISMATCH_US = 60_000_000;
/** Counts of queued messages kept to find one taken before a statistics reading. */
const SAMPLES_KEPT = 8;

/**
 * The number of messages acknowledged, from statistics: never more than the truth, never decreasing, at most about
 * two statistics intervals behind. For statistics taken at time T, produced(T) ≥ the producer's queued count
 * sampled before T; delivered(T) = produced(T) − held(T) − failed(T). The failures are those counted by the next
 * statistics, one interval later, so that failure reports handed over before T but still on their way to
 * JavaScript are counted too (counting a later failure as well only underestimates).
 */
export class DeliveredFromStatistics {
  private deliveredCount = 0;
  private held = 0;
  private readonly samples: { readonly atUs: number; readonly queued: number }[] = [];
  private pending: { readonly queuedBefore: number; readonly held: number } | undefined;

  get delivered(): number {
    return this.deliveredCount;
  }

  /** Messages librdkafka held at its last statistics. */
  get messagesHeld(): number {
    return this.held;
  }

  /** On each statistics reading: `queued` and `failed` are the producer's counts now, `nowUs` our clock now. */
  update(statistics: ProducerStatistics, nowUs: number, queued: number, failed: number): void {
    if (this.pending !== undefined) this.raise(this.pending.queuedBefore - this.pending.held - failed);
    this.held = statistics.messagesHeld;
    this.pending = undefined;
    if (Math.abs(nowUs - statistics.takenAtUs) < CLOCK_MISMATCH_US) {
      const before = this.samples.findLast(
        (sample) => sample.atUs <= statistics.takenAtUs - SAMPLE_MARGIN_US,
      );
      if (before !== undefined) this.pending = { queuedBefore: before.queued, held: statistics.messagesHeld };
    }
    this.samples.push({ atUs: nowUs, queued });
    if (this.samples.length > SAMPLES_KEPT) this.samples.shift();
  }

  /**
   * After a flush that left nothing in librdkafka, once every failure report arrived: everything queued was
   * delivered or failed, so the count is exact.
   */
  settle(queued: number, failed: number): void {
    this.deliveredCount = queued - failed;
    this.held = 0;
    this.pending = undefined;
  }

  private raise(candidate: number): void {
    if (candidate > this.deliveredCount) this.deliveredCount = candidate;
  }
}
