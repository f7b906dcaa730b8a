/**
 * Name resolution scheduling without I/O: which channel names to search for when, and how they are packed into
 * datagrams.
 *
 * Each unresolved channel has its own back-off: attempts at 0, then initialDelay × 2^k up to maxPeriod. Entries
 * sit in one min-heap ordered by due time (one timer for all channels, not one per channel). A beacon anomaly
 * (a server booted, or came back) pulls every waiting channel forward to be searched again at once.
 */
import { ipv4ToString } from '../common/addresses.js';
import {
  ADDRESS_FROM_SOURCE,
  CA_MINOR_VERSION,
  Command,
  HEADER_SIZE,
  MAX_SEARCH_DATAGRAM_BYTES,
  SearchReplyFlag,
} from './constants.js';
import { decodeDatagram, encodeSearchVersion, type MessageHeader, padded, writeHeader } from './messages.js';

export interface SearchRequest {
  readonly cid: number;
  readonly name: string;
}

interface Entry extends SearchRequest {
  readonly due: number;
  readonly attempt: number;
}

export interface SearchSchedulerOptions {
  /** Delay before the second attempt; it doubles per attempt. */
  readonly initialDelayMs: number;
  /** Upper bound of the delay between attempts. */
  readonly maxPeriodMs: number;
  /** Spread of the restart after a beacon anomaly, so many clients do not search in lockstep. */
  readonly boostSpreadMs: number;
  readonly random?: () => number;
}

export class SearchScheduler {
  private readonly entries = new Map<number, Entry>();
  private heap: Entry[] = [];
  private readonly random: () => number;

  constructor(private readonly options: SearchSchedulerOptions) {
    this.random = options.random ?? Math.random;
  }

  get pendingCount(): number {
    return this.entries.size;
  }

  has(cid: number): boolean {
    return this.entries.has(cid);
  }

  /** Starts (or restarts) searching for a channel, first attempt after `delayMs`. */
  add(cid: number, name: string, now: number, delayMs = 0): void {
    this.schedule({ cid, name, due: now + delayMs, attempt: 0 });
  }

  remove(cid: number): void {
    this.entries.delete(cid);
    if (this.heap.length > 64 && this.heap.length > 4 * this.entries.size) this.compact();
  }

  /** Time of the earliest attempt, or undefined when nothing is waiting. */
  nextDue(): number | undefined {
    this.dropStale();
    return this.heap[0]?.due;
  }

  /**
   * Takes up to `limit` requests that are due and schedules each one's next attempt with back-off. The channel
   * stays in the schedule until `remove()` (its search answered).
   */
  takeDue(now: number, limit: number): SearchRequest[] {
    const due: SearchRequest[] = [];
    while (due.length < limit) {
      this.dropStale();
      const first = this.heap[0];
      if (!first || first.due > now) break;
      this.pop();
      due.push(first);
      const delay = Math.min(this.options.initialDelayMs * 2 ** first.attempt, this.options.maxPeriodMs);
      this.schedule({ cid: first.cid, name: first.name, due: now + delay, attempt: first.attempt + 1 });
    }
    return due;
  }

  /** After a beacon anomaly: every waiting channel is searched again soon, back-off restarted. */
  boost(now: number): void {
    const entries = [...this.entries.values()];
    this.entries.clear();
    this.heap = [];
    for (const entry of entries) {
      const due = Math.min(entry.due, now + this.random() * this.options.boostSpreadMs);
      this.schedule({ cid: entry.cid, name: entry.name, due, attempt: 0 });
    }
  }

  private schedule(entry: Entry): void {
    this.entries.set(entry.cid, entry);
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as Entry).due <= entry.due) break;
      heap[index] = heap[parent] as Entry;
      index = parent;
    }
    heap[index] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Entry;
    if (heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as Entry).due < (heap[left] as Entry).due ? right : left;
      if ((heap[child] as Entry).due >= last.due) break;
      heap[index] = heap[child] as Entry;
      index = child;
    }
    heap[index] = last;
  }

  /** Drops heap tops that were removed or rescheduled since they were pushed. */
  private dropStale(): void {
    while (this.heap.length > 0 && this.entries.get((this.heap[0] as Entry).cid) !== this.heap[0]) this.pop();
  }

  private compact(): void {
    const entries = [...this.entries.values()];
    this.heap = [];
    this.entries.clear();
    for (const entry of entries) this.schedule(entry);
  }
}

/**
 * Packs search requests into datagrams of at most `maxBytes`, each led by a VERSION carrying its sequence
 * number. Names too long for one datagram go alone.
 */
export function packSearchDatagrams(
  requests: readonly SearchRequest[],
  firstSequence: number,
  maxBytes: number = MAX_SEARCH_DATAGRAM_BYTES,
): Buffer[] {
  const datagrams: Buffer[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  let sequence = firstSequence;
  const finish = (): void => {
    if (parts.length > 0) datagrams.push(Buffer.concat(parts, size));
    parts = [];
    size = 0;
  };
  for (const request of requests) {
    const name = Buffer.from(request.name, 'utf8');
    const payloadSize = padded(name.length + 1);
    const message = Buffer.alloc(HEADER_SIZE + payloadSize);
    writeHeader(
      message,
      0,
      Command.SEARCH,
      payloadSize,
      SearchReplyFlag.DONT_REPLY,
      CA_MINOR_VERSION,
      request.cid,
      request.cid,
    );
    name.copy(message, HEADER_SIZE);
    if (parts.length > 0 && size + message.length > maxBytes) finish();
    if (parts.length === 0) {
      const version = encodeSearchVersion(sequence++ >>> 0);
      parts.push(version);
      size += version.length;
    }
    parts.push(message);
    size += message.length;
  }
  finish();
  return datagrams;
}

/** Per-server beacon state. */
interface BeaconState {
  lastAt: number;
  lastSequence: number;
  averagePeriodMs: number | undefined;
}

/**
 * Watches server beacons and reports anomalies: a server that has just booted (beacon sequence restarted or
 * small on first sight) or one heard again after a long gap (network segment back). Duplicates (the same
 * beacon over several routes) are ignored.
 */
export class BeaconTracker {
  private readonly servers = new Map<string, BeaconState>();

  /** Sequence numbers below this on first sight mean the server booted within its fast-beacon phase. */
  static readonly FRESH_BOOT_SEQUENCE = 20;
  /** An interval this many times the average means the server was unreachable for a while. */
  static readonly GAP_FACTOR = 3.25;

  get serverCount(): number {
    return this.servers.size;
  }

  /** Returns true when this beacon is an anomaly that should speed up searches. */
  observe(server: string, sequence: number, now: number): boolean {
    const state = this.servers.get(server);
    if (!state) {
      this.servers.set(server, { lastAt: now, lastSequence: sequence, averagePeriodMs: undefined });
      return sequence < BeaconTracker.FRESH_BOOT_SEQUENCE;
    }
    if (sequence === state.lastSequence) return false;
    const interval = now - state.lastAt;
    const restarted = sequence < state.lastSequence && state.lastSequence - sequence < 0x80000000;
    const gap =
      state.averagePeriodMs !== undefined && interval >= BeaconTracker.GAP_FACTOR * state.averagePeriodMs;
    state.averagePeriodMs =
      restarted || state.averagePeriodMs === undefined
        ? interval
        : (7 * state.averagePeriodMs + interval) / 8;
    state.lastAt = now;
    state.lastSequence = sequence;
    return restarted || gap;
  }
}

/** A search reply: the server of channel `cid`, and the minor version it speaks. */
export interface SearchReply {
  readonly cid: number;
  readonly address: string;
  readonly port: number;
  readonly minor: number;
}

/**
 * The reply a SEARCH message carries; `source` is the address it came from (a server may leave its own address
 * to the receiver), `defaultMinor` the version assumed when the reply does not say.
 */
export function searchReply(
  header: MessageHeader,
  payload: Buffer,
  source: string,
  defaultMinor: number,
): SearchReply {
  return {
    cid: header.p2,
    address: header.p1 === ADDRESS_FROM_SOURCE || header.p1 === 0 ? source : ipv4ToString(header.p1),
    port: header.dataType,
    minor: payload.length >= 2 ? payload.readUInt16BE(0) : defaultMinor,
  };
}

/** What a datagram on the search socket says. */
export type SearchDatagramEvent =
  | ({ readonly kind: 'searchReply' } & SearchReply)
  /** A server beacon, forwarded by the repeater. */
  | { readonly kind: 'beacon'; readonly address: string; readonly port: number; readonly sequence: number }
  | { readonly kind: 'repeaterConfirm' };

/**
 * Decodes a datagram on the search socket: search replies, beacons and the repeater's confirmation (VERSION leads
 * every reply datagram and NOT_FOUND needs no action: neither is reported). Throws CaProtocolError when malformed.
 */
export function decodeSearchDatagram(
  datagram: Buffer,
  source: string,
  serverPort: number,
): SearchDatagramEvent[] {
  const events: SearchDatagramEvent[] = [];
  for (const { header, payload } of decodeDatagram(datagram)) {
    switch (header.command) {
      case Command.SEARCH:
        events.push({ kind: 'searchReply', ...searchReply(header, payload, source, 0) });
        break;
      case Command.RSRV_IS_UP:
        events.push({
          kind: 'beacon',
          address: header.p2 === 0 ? source : ipv4ToString(header.p2),
          port: header.count === 0 ? serverPort : header.count,
          sequence: header.p1,
        });
        break;
      case Command.REPEATER_CONFIRM:
        events.push({ kind: 'repeaterConfirm' });
        break;
      default:
        break;
    }
  }
  return events;
}
