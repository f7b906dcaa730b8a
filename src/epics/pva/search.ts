/**
 * Search scheduling (docs/protocols/pvaccess.md, "Back-off"), like pvxs: new channels are searched in one batch shortly after they are added;
 * unanswered ones then sit in a ring of one-second buckets, moving n buckets ahead after their n-th unanswered
 * search (retries after 1, 2, 3, … 30 s, then every 30 s). A beacon of a new or restarted server sends every
 * waiting channel back to the initial batch. Pure: the caller owns the timer and the sockets.
 */
import { datagramMessages, isLittleEndian } from './header.js';
import {
  decodeSearchResponse,
  SEARCH_FIXED_BYTES,
  type SearchChannel,
  type SearchResponse,
} from './messages.js';
import { Command, MAX_SEARCH_DATAGRAM } from './protocol.js';
import { WireReader } from './wire.js';

export const SEARCH_BUCKETS = 30;
export const SEARCH_TICK_MS = 1000;
/** New channels are batched for this long before their first search. */
export const INITIAL_SEARCH_DELAY_MS = 10;

export class SearchScheduler<T> {
  private readonly ring: Set<T>[] = Array.from({ length: SEARCH_BUCKETS }, () => new Set<T>());
  private current = 0;
  private readonly attempts = new Map<T, { count: number; bucket: number }>();
  private initial = new Set<T>();

  /** Queues an item for the next initial batch (also used to restart searching after a disconnect). */
  add(item: T): void {
    this.remove(item);
    this.initial.add(item);
  }

  /** Stops searching for an item (found or no longer wanted). */
  remove(item: T): void {
    this.initial.delete(item);
    const entry = this.attempts.get(item);
    if (entry) {
      this.ring[entry.bucket]?.delete(item);
      this.attempts.delete(item);
    }
  }

  /** Schedules an item far ahead (pvxs does so when a server refuses a channel it advertised). */
  deferToSlowest(item: T): void {
    this.remove(item);
    this.place(item, SEARCH_BUCKETS, SEARCH_BUCKETS);
  }

  has(item: T): boolean {
    return this.initial.has(item) || this.attempts.has(item);
  }

  get size(): number {
    return this.initial.size + this.attempts.size;
  }

  get hasInitial(): boolean {
    return this.initial.size > 0;
  }

  /** Items of the initial batch, now due; they move on to the one-second retry. */
  takeInitial(): T[] {
    const due = [...this.initial];
    this.initial = new Set();
    for (const item of due) this.place(item, 1, 1);
    return due;
  }

  /** Advances one bucket: the items due now, each rescheduled further ahead. */
  tick(): T[] {
    const bucket = this.current;
    this.current = (this.current + 1) % SEARCH_BUCKETS;
    const due = [...(this.ring[bucket] as Set<T>)];
    (this.ring[bucket] as Set<T>).clear();
    for (const item of due) {
      const count = (this.attempts.get(item)?.count ?? 0) + 1;
      this.place(item, Math.min(count, SEARCH_BUCKETS), count);
    }
    return due;
  }

  /**
   * A server appeared or restarted: every item waiting is moved to the next initial batch, to be searched at once
   * with its back-off restarted.
   */
  boost(): void {
    for (const item of this.attempts.keys()) this.initial.add(item);
    for (const bucket of this.ring) bucket.clear();
    this.attempts.clear();
  }

  /** Every item being searched, for a full round (a name server just connected). */
  all(): T[] {
    return [...this.initial, ...this.attempts.keys()];
  }

  private place(item: T, bucketsAhead: number, count: number): void {
    // The current bucket was already taken by tick(), so "ahead" counts from the one just consumed.
    const bucket = (this.current - 1 + bucketsAhead + SEARCH_BUCKETS) % SEARCH_BUCKETS;
    this.ring[bucket]?.add(item);
    this.attempts.set(item, { count, bucket });
  }
}

/** Splits channels into datagram-sized groups (each search message ≤ 1400 bytes, as pvxs). */
export function packSearchChannels(channels: readonly SearchChannel[]): SearchChannel[][] {
  const groups: SearchChannel[][] = [];
  let group: SearchChannel[] = [];
  let size = 8 + SEARCH_FIXED_BYTES;
  for (const channel of channels) {
    const nameBytes = Buffer.byteLength(channel.name, 'utf8');
    const channelBytes = 4 + (nameBytes <= 0xfd ? 1 : 5) + nameBytes;
    if (group.length > 0 && (size + channelBytes > MAX_SEARCH_DATAGRAM || group.length === 0xffff)) {
      groups.push(group);
      group = [];
      size = 8 + SEARCH_FIXED_BYTES;
    }
    group.push(channel);
    size += channelBytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

const datagramReader = new WireReader();

/**
 * Decodes a datagram on the search socket: its SEARCH_RESPONSE messages (beacons and anything else are skipped).
 * Throws PvaProtocolError when malformed.
 */
export function decodeSearchDatagram(datagram: Buffer): SearchResponse[] {
  const responses: SearchResponse[] = [];
  for (const { header, start, end } of datagramMessages(datagram, true)) {
    if (header.command !== Command.searchResponse) continue;
    const reader = datagramReader.reset(datagram, start, end, isLittleEndian(header.flags));
    responses.push(decodeSearchResponse(reader));
  }
  return responses;
}
