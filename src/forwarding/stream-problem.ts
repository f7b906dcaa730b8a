/**
 * Whether a stream is forwarding, and if not, why, from what its pipeline and the output producer's failure
 * reports keep: not connected (lost, or never reached), connected but every update refused (a string PV on f144,
 * a type the EPICS client cannot express, a timestamp the filter refuses), or connected but Kafka refusing or
 * failing to deliver its messages. The status page, /status.json, the metrics and the log all use this one
 * verdict.
 */
import type { StreamStatus } from './forwarder.js';

/** What keeps a stream from forwarding, most serious first: the order the status page lists them in. */
export const STREAM_PROBLEMS = ['disconnected', 'never_connected', 'rejecting', 'delivery_failing'] as const;
export type StreamProblem = (typeof STREAM_PROBLEMS)[number];

/**
 * A delivery failure counts for this long after it was reported, and for as long as no update came after it: the
 * output producer reports failures only, so a stream's later messages are taken to be delivered once this passes.
 */
export const DELIVERY_FAILURE_WINDOW_MS = 60_000;

export interface StreamVerdict {
  readonly problem: StreamProblem;
  /** What the EPICS client, the serialiser or Kafka said, when it said anything. */
  readonly reason: string | undefined;
}

/** What keeps the stream from forwarding, or undefined when it forwards. */
export function streamProblem(
  { counters, deliveryFailures }: StreamStatus,
  nowMs: number,
): StreamVerdict | undefined {
  if (counters.connection === 'never_connected')
    return { problem: 'never_connected', reason: counters.connectionDetail };
  if (counters.connection !== 'connected') {
    const reason = counters.connectionDetail ?? counters.connection.replaceAll('_', ' ');
    return { problem: 'disconnected', reason };
  }
  if (counters.rejecting !== undefined) return { problem: 'rejecting', reason: counters.rejecting };
  if (
    deliveryFailures !== undefined &&
    (deliveryFailures.lastMs >= counters.lastUpdateMs ||
      nowMs - deliveryFailures.lastMs < DELIVERY_FAILURE_WINDOW_MS)
  ) {
    return { problem: 'delivery_failing', reason: deliveryFailures.reason };
  }
  return undefined;
}
