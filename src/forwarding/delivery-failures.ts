/**
 * Messages Kafka did not take, per topic and key (the PV name), so that a stream whose messages are refused or
 * fail delivery ("Message size too large", an invalid topic) says so with the reason, where the log line alone
 * would leave the stream looking healthy. Bounded: past MAX_TRACKED pairs, new ones are only counted in total.
 */

/** One topic and key's failures. */
export interface DeliveryFailureRecord {
  count: number;
  reason: string;
  /** Wall-clock ms of the last failure. */
  lastMs: number;
}

/** What a stream reports of its failed messages. */
export type StreamDeliveryFailures = Readonly<DeliveryFailureRecord>;

const MAX_TRACKED = 10_000;

export class DeliveryFailures {
  private readonly byTopicAndKey = new Map<string, DeliveryFailureRecord>();
  /** Failures of pairs beyond the bound. */
  untracked = 0;

  note(topic: string, key: string, reason: string, nowMs: number): void {
    const id = pairId(topic, key);
    const record = this.byTopicAndKey.get(id);
    if (record) {
      record.count++;
      record.reason = reason;
      record.lastMs = nowMs;
    } else if (this.byTopicAndKey.size < MAX_TRACKED) {
      this.byTopicAndKey.set(id, { count: 1, reason, lastMs: nowMs });
    } else {
      this.untracked++;
    }
  }

  of(topic: string, key: string): StreamDeliveryFailures | undefined {
    return this.byTopicAndKey.get(pairId(topic, key));
  }
}

function pairId(topic: string, key: string): string {
  return `${topic}\u0000${key}`;
}
