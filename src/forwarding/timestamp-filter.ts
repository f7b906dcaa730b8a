/**
 * The per-message-kind timestamp filter, as the ESS forwarder has it (docs/forwarding.md, "Timestamp filter"): a message older than the last
 * accepted one, more than 365.25 days old, or more than 10 minutes in the future is not forwarded. Equal times
 * pass.
 */
const NS_PER_MS = 1_000_000n;
export const MAX_AGE_NS = (36_525n * 24n * 3600n * 1_000_000_000n) / 100n;
export const MAX_FUTURE_NS = 10n * 60n * 1_000_000_000n;

export type TimestampVerdict = 'accepted' | 'older-than-previous' | 'too-old' | 'in-future';

/** The verdict on a message with `timestampNs`, given the last accepted one's (-1n before the first). */
export function timestampVerdict(
  timestampNs: bigint,
  lastAcceptedNs: bigint,
  nowMs: number,
): TimestampVerdict {
  const nowNs = BigInt(nowMs) * NS_PER_MS;
  if (timestampNs < lastAcceptedNs) return 'older-than-previous';
  if (timestampNs < nowNs - MAX_AGE_NS) return 'too-old';
  if (timestampNs > nowNs + MAX_FUTURE_NS) return 'in-future';
  return 'accepted';
}

export const VERDICT_EXPLANATION: { readonly [V in Exclude<TimestampVerdict, 'accepted'>]: string } = {
  'older-than-previous': 'its timestamp is older than the previous message timestamp',
  'too-old': 'its timestamp is more than 365.25 days old',
  'in-future': 'its timestamp is more than 10 minutes in the future',
};
