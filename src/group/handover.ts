/**
 * The make-before-break hand-over of a forwarding group's partitions (docs/scaling.md, "Hand-over agreement"), as
 * a state machine without I/O: events in (assignments, revocations, messages read from the coordination topic,
 * the clock), actions out (messages to send, partitions to hold, forward or stop). One instance per member plays
 * both sides: the old owner ("giving") of the partitions revoked from it, the new owner ("taking") of those
 * assigned to it.
 *
 * Old owner: on revocation it announces RELEASING and keeps forwarding. On READY from the new owner it stops the
 * partition's streams and flushes, then answers RELEASED with the cuts (per stream, the EPICS time of its last
 * forwarded update). Without a READY by the deadline it stops anyway and keeps its cuts for a late READY.
 *
 * New owner: on assignment it subscribes the partition's streams and holds their updates while it reads the
 * coordination topic up to date. A partition nobody announced (a dead member's, a new group's) is then forwarded,
 * held updates and all. For an announced one, when every stream has its first value (or a deadline passes) it
 * sends READY. On RELEASED it forwards what it holds after the cuts and goes live; without RELEASED by a deadline
 * it goes live with everything it holds.
 */
import { type HandoverMessage, HandoverKind } from './handover-message.js';

export interface HandoverTimeouts {
  /** Old owner: how long it forwards after its revocation while waiting for the new owner's READY. */
  readonly readyMs: number;
  /** New owner: how long it waits for the first value of every stream before it sends READY anyway. */
  readonly firstValuesMs: number;
  /** New owner: how long it holds updates after READY while waiting for RELEASED. */
  readonly releasedMs: number;
  /** Old owner: how long it keeps its cuts after stopping, to answer a late READY. */
  readonly keepCutsMs: number;
}

export type HandoverRole = 'giving' | 'taking';
export type HandoverOutcome = 'completed' | 'fallen_back';

/** Why a hand-over fell back to break-before-make, and which side sees it. */
export const FALLBACK_REASON_ROLES = {
  /** Old owner: no READY in time (the new owner died, or Kafka is away); it stopped anyway. */
  'no-ready': 'giving',
  /** Old owner: Kafka did not take its RELEASING (Kafka away): it stopped at once, as before hand-overs. */
  'not-announced': 'giving',
  /** Old owner: its producer did not flush in time (Kafka away): the cuts may be ahead of the topic. */
  'flush-timeout': 'giving',
  /** New owner: no RELEASED in time (the old owner died, or Kafka is away): overlap or gap possible. */
  'no-released': 'taking',
  /** New owner: the partition was revoked or lost before the agreement completed. */
  interrupted: 'taking',
} as const satisfies Record<string, HandoverRole>;

export type FallbackReason = keyof typeof FALLBACK_REASON_ROLES;

export type HandoverAction =
  | { readonly type: 'send'; readonly message: HandoverMessage }
  /** New owner: subscribe the partition's streams and hold their updates, forwarding nothing. */
  | { readonly type: 'hold'; readonly partition: number }
  /**
   * Forward the partition's streams from now on, subscribing them if they are not yet. Updates held for it are
   * forwarded first, except those at or before their stream's cut (no cuts: all of them).
   */
  | {
      readonly type: 'forward';
      readonly partition: number;
      readonly cuts: ReadonlyMap<string, bigint> | undefined;
    }
  /** Old owner: stop the partition's streams, flush what they produced, then report stopped(). */
  | { readonly type: 'stop'; readonly partition: number }
  /** A hand-over ended; `peer` is the other member ('' when unknown). */
  | {
      readonly type: 'ended';
      readonly partition: number;
      readonly role: HandoverRole;
      readonly outcome: HandoverOutcome;
      readonly reason?: FallbackReason;
      readonly peer: string;
    };

/** A hand-over under way, for status reports. */
export interface HandoverInProgress {
  readonly partition: number;
  readonly role: HandoverRole;
  /** The old owner ('' while unknown: never for a taking member). */
  readonly from: string;
  /** The new owner ('' until its READY arrives). */
  readonly to: string;
  readonly phase: 'announced' | 'stopping' | 'subscribing' | 'ready';
  readonly sinceMs: number;
}

export interface HandoverCounts {
  completed: Record<HandoverRole, number>;
  fallenBack: Record<FallbackReason, number>;
}

interface Giving {
  readonly role: 'giving';
  phase: 'announced' | 'stopping' | 'stopped';
  readonly sinceMs: number;
  /** announced: when it stops without READY; stopped: when the cuts are forgotten. */
  deadlineMs: number;
  /** New owners whose READY arrived: answered with RELEASED once stopped. */
  readonly recipients: Set<string>;
  /** Kafka did not take the RELEASING. */
  unannounced?: boolean;
  cuts: ReadonlyMap<string, bigint>;
}

interface Taking {
  readonly role: 'taking';
  phase: 'subscribing' | 'ready';
  readonly from: string;
  readonly sinceMs: number;
  deadlineMs: number;
}

/** Another member's RELEASING not yet answered by its RELEASED. */
interface Announcement {
  readonly from: string;
  readonly expiresMs: number;
}

/** The counts of a member that has not handed anything over. */
export const NO_HANDOVERS: Readonly<HandoverCounts> = newCounts();

function newCounts(): HandoverCounts {
  return {
    completed: { giving: 0, taking: 0 },
    fallenBack: { 'no-ready': 0, 'not-announced': 0, 'flush-timeout': 0, 'no-released': 0, interrupted: 0 },
  };
}

export class HandoverAgreement {
  readonly counts: HandoverCounts = newCounts();
  private readonly giving = new Map<number, Giving>();
  private readonly taking = new Map<number, Taking>();
  private readonly announced = new Map<number, Announcement>();
  /** Assigned partitions, held while this member looks for an announcement of their hand-over. */
  private readonly checking = new Set<number>();

  /** `self` names this member on the coordination topic: unique per process. */
  constructor(
    readonly self: string,
    readonly timeouts: HandoverTimeouts,
  ) {}

  /** Partitions revoked from this member: it announces them and keeps forwarding. */
  revoked(partitions: readonly number[], nowMs: number): HandoverAction[] {
    const actions: HandoverAction[] = [];
    for (const partition of partitions) {
      // Revoked before its own hand-over completed: forwarding what it holds risks an overlap, never a gap.
      actions.push(...this.interruptTaking(partition));
      this.giving.set(partition, {
        role: 'giving',
        phase: 'announced',
        sinceMs: nowMs,
        deadlineMs: nowMs + this.timeouts.readyMs,
        recipients: new Set(),
        cuts: new Map(),
      });
      actions.push(this.send(HandoverKind.Releasing, partition, ''));
    }
    return actions;
  }

  /** Partitions assigned to this member: held while someone hands them over, forwarded at once otherwise. */
  assigned(partitions: readonly number[]): HandoverAction[] {
    const actions: HandoverAction[] = [];
    for (const partition of partitions) {
      const own = this.giving.get(partition);
      // Its cuts from an earlier hand-over are of no use once the partition is back.
      this.giving.delete(partition);
      if (own !== undefined && own.phase !== 'stopped') {
        // Given back before anybody took it: forward again (resubscribing what was stopped).
        actions.push({ type: 'forward', partition, cuts: undefined });
        continue;
      }
      this.checking.add(partition);
      actions.push({ type: 'hold', partition });
    }
    return actions;
  }

  /**
   * The coordination topic has been read up to where it stood at the assignment (or reading it took too long):
   * a partition somebody announced waits for the agreement, any other is forwarded at once, held updates and all.
   */
  caughtUp(partition: number, nowMs: number): HandoverAction[] {
    if (!this.checking.delete(partition)) return [];
    const announcement = this.announced.get(partition);
    if (announcement === undefined) return [{ type: 'forward', partition, cuts: undefined }];
    this.taking.set(partition, {
      role: 'taking',
      phase: 'subscribing',
      from: announcement.from,
      sinceMs: nowMs,
      deadlineMs: nowMs + this.timeouts.firstValuesMs,
    });
    return [];
  }

  /** Kafka did not take the RELEASING of these revoked partitions: nobody will send READY, so stop now. */
  notAnnounced(partitions: readonly number[]): HandoverAction[] {
    const actions: HandoverAction[] = [];
    for (const partition of partitions) {
      const giving = this.giving.get(partition);
      if (giving?.phase !== 'announced') continue;
      giving.phase = 'stopping';
      giving.unannounced = true;
      actions.push({ type: 'stop', partition });
    }
    return actions;
  }

  /** Partitions whose assignment was lost with the session: what is held is forwarded, as lost partitions are. */
  lost(partitions: readonly number[]): HandoverAction[] {
    return partitions.flatMap((partition) => this.interruptTaking(partition));
  }

  /** Every stream of a held partition has its first value. */
  firstValues(partition: number, nowMs: number): HandoverAction[] {
    const taking = this.taking.get(partition);
    if (taking?.phase !== 'subscribing') return [];
    return this.sendReady(partition, taking, nowMs);
  }

  /** The old owner stopped the partition's streams and flushed (or gave up flushing). */
  stopped(
    partition: number,
    cuts: ReadonlyMap<string, bigint>,
    flushed: boolean,
    nowMs: number,
  ): HandoverAction[] {
    const giving = this.giving.get(partition);
    if (giving?.phase !== 'stopping') return [];
    giving.phase = 'stopped';
    giving.cuts = cuts;
    giving.deadlineMs = nowMs + this.timeouts.keepCutsMs;
    const actions: HandoverAction[] = [...giving.recipients].map((recipient) =>
      this.send(HandoverKind.Released, partition, recipient, cuts),
    );
    const peer = [...giving.recipients].join(',');
    if (giving.unannounced) actions.push(this.fallBack(partition, 'not-announced', peer));
    else if (giving.recipients.size === 0) actions.push(this.fallBack(partition, 'no-ready', peer));
    else if (!flushed) actions.push(this.fallBack(partition, 'flush-timeout', peer));
    else actions.push(this.complete(partition, 'giving', peer));
    return actions;
  }

  /** A message read from the coordination topic (this member's own included). */
  received(message: HandoverMessage, nowMs: number): HandoverAction[] {
    if (message.sender === this.self) return [];
    const { partition } = message;
    switch (message.kind) {
      case HandoverKind.Releasing:
        this.announced.set(partition, {
          from: message.sender,
          expiresMs: nowMs + this.timeouts.readyMs + this.timeouts.releasedMs,
        });
        return [];
      case HandoverKind.Ready:
        // Only the member whose RELEASING the new owner read answers: others may keep stale cuts.
        return message.recipient === this.self ? this.answerReady(partition, message.sender) : [];
      case HandoverKind.Released: {
        if (this.announced.get(partition)?.from === message.sender) this.announced.delete(partition);
        if (message.recipient !== this.self || this.taking.get(partition)?.from !== message.sender) return [];
        this.taking.delete(partition);
        return [
          { type: 'forward', partition, cuts: message.cuts },
          this.complete(partition, 'taking', message.sender),
        ];
      }
    }
  }

  /** Deadlines: call now and then (every 100 ms or so). */
  tick(nowMs: number): HandoverAction[] {
    const actions: HandoverAction[] = [];
    for (const [partition, giving] of this.giving) {
      if (nowMs < giving.deadlineMs) continue;
      if (giving.phase === 'announced') {
        giving.phase = 'stopping';
        actions.push({ type: 'stop', partition });
      } else if (giving.phase === 'stopped') {
        this.giving.delete(partition);
      }
    }
    for (const [partition, taking] of this.taking) {
      if (nowMs < taking.deadlineMs) continue;
      if (taking.phase === 'subscribing') {
        actions.push(...this.sendReady(partition, taking, nowMs));
      } else {
        this.taking.delete(partition);
        actions.push(
          { type: 'forward', partition, cuts: undefined },
          this.fallBack(partition, 'no-released', taking.from),
        );
      }
    }
    for (const [partition, announcement] of this.announced) {
      if (nowMs >= announcement.expiresMs) this.announced.delete(partition);
    }
    return actions;
  }

  /** Whether this member still forwards revoked partitions: a leaving member waits for this to turn false. */
  get stillForwardingRevoked(): boolean {
    return [...this.giving.values()].some((giving) => giving.phase !== 'stopped');
  }

  /** Hand-overs under way, by partition. */
  inProgress(): HandoverInProgress[] {
    const giving = [...this.giving]
      .filter(([, state]) => state.phase !== 'stopped')
      .map(([partition, state]) => ({
        partition,
        role: state.role,
        from: this.self,
        to: [...state.recipients].join(','),
        phase: state.phase as 'announced' | 'stopping',
        sinceMs: state.sinceMs,
      }));
    const taking = [...this.taking].map(([partition, state]) => ({
      partition,
      role: state.role,
      from: state.from,
      to: this.self,
      phase: state.phase,
      sinceMs: state.sinceMs,
    }));
    return [...giving, ...taking].sort((a, b) => a.partition - b.partition);
  }

  private answerReady(partition: number, newOwner: string): HandoverAction[] {
    const giving = this.giving.get(partition);
    if (giving === undefined) return [];
    giving.recipients.add(newOwner);
    switch (giving.phase) {
      case 'announced':
        giving.phase = 'stopping';
        return [{ type: 'stop', partition }];
      case 'stopping':
        return [];
      case 'stopped':
        return [this.send(HandoverKind.Released, partition, newOwner, giving.cuts)];
    }
  }

  private sendReady(partition: number, taking: Taking, nowMs: number): HandoverAction[] {
    taking.phase = 'ready';
    taking.deadlineMs = nowMs + this.timeouts.releasedMs;
    return [this.send(HandoverKind.Ready, partition, taking.from)];
  }

  /** What this member holds of the partition is forwarded; a hand-over under way for it counts as fallen back. */
  private interruptTaking(partition: number): HandoverAction[] {
    const forward: HandoverAction = { type: 'forward', partition, cuts: undefined };
    if (this.checking.delete(partition)) return [forward];
    const taking = this.taking.get(partition);
    if (taking === undefined) return [];
    this.taking.delete(partition);
    return [forward, this.fallBack(partition, 'interrupted', taking.from)];
  }

  private send(
    kind: HandoverKind,
    partition: number,
    recipient: string,
    cuts: ReadonlyMap<string, bigint> = new Map(),
  ): HandoverAction {
    return { type: 'send', message: { kind, partition, sender: this.self, recipient, cuts } };
  }

  private complete(partition: number, role: HandoverRole, peer: string): HandoverAction {
    this.counts.completed[role]++;
    return { type: 'ended', partition, role, outcome: 'completed', peer };
  }

  private fallBack(partition: number, reason: FallbackReason, peer: string): HandoverAction {
    this.counts.fallenBack[reason]++;
    const role = FALLBACK_REASON_ROLES[reason];
    return { type: 'ended', partition, role, outcome: 'fallen_back', reason, peer };
  }
}

/** What to forward of the updates a new owner held for one stream, given the old owner's cut. */
export interface CutResult<T> {
  /** The held updates after the cut, in the order they came. */
  readonly forward: readonly T[];
  /** Held updates at or before the cut: the old owner forwarded them. */
  readonly dropped: number;
  /**
   * The old owner's last update came before the first one held: updates between the two may be missing. Never
   * when the new owner subscribed before the old one stopped.
   */
  readonly gapPossible: boolean;
}

/** Applies a stream's cut (undefined: no cut known, forward everything) to the updates held for it. */
export function applyCut<T>(
  held: readonly T[],
  timestampNs: (update: T) => bigint,
  cutNs: bigint | undefined,
): CutResult<T> {
  if (cutNs === undefined) return { forward: held, dropped: 0, gapPossible: false };
  const forward = held.filter((update) => timestampNs(update) > cutNs);
  const gapPossible = held.length > 0 && forward.length === held.length;
  return { forward, dropped: held.length - forward.length, gapPossible };
}
