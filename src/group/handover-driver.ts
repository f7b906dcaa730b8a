/**
 * Runs the hand-over agreement (handover.ts) for a group member: feeds it assignments, revocations, messages read
 * from the coordination topic and the clock, and carries its actions out on the streams (through the member's
 * owner), the message sink and the coordination topic. It keeps which partitions' streams run: those forwarded,
 * those held while taken over, and those still forwarded after their revocation until the new owner is ready.
 */
import { waitUntil } from './wait-until.js';
import type { Logger } from '../logging/logger.js';
import {
  type HandoverAction,
  HandoverAgreement,
  type HandoverInProgress,
  type HandoverTimeouts,
} from './handover.js';
import type { HandoverChannel } from './handover-channel.js';
import type { HandoverMessage } from './handover-message.js';
import type { HandoverSink } from './handover-sink.js';

export const HANDOVER_TIMEOUTS: HandoverTimeouts = {
  readyMs: 8_000,
  firstValuesMs: 2_000,
  releasedMs: 8_000,
  keepCutsMs: 60_000,
};
/** How long a revoked member waits for Kafka to take its RELEASING before it stops the partition at once. */
const ANNOUNCE_TIMEOUT_MS = 2_000;
/**
 * How long a new owner reads the coordination topic for a RELEASING before it decides nobody hands over. It holds
 * the partition's updates meanwhile, so waiting longer delays them but loses none.
 */
const CATCH_UP_TIMEOUT_MS = 3_000;
const SEND_TIMEOUT_MS = 5_000;
const TICK_MS = 100;

/** What the driver needs of the member's owner. */
export interface HandoverStreams {
  /** Which partitions' streams run changed: start and stop streams to match. */
  changed(): void;
  /** Resolves true once every message produced so far is acknowledged, false after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean>;
  /** The PV names of the streams of one partition. */
  pvNames(partition: number): string[];
  /** A hand-over began, moved on or ended: for status reports. */
  progressed(): void;
}

/** How long the old owner waits for its stopped streams' messages before it sends the cuts. */
export const RELEASE_FLUSH_MS = 5_000;

export class HandoverDriver {
  readonly agreement: HandoverAgreement;
  /** Partitions forwarded. */
  private readonly live = new Set<number>();
  /** Partitions whose streams run, their messages held, while they are taken over. */
  private readonly held = new Set<number>();
  /** Partitions revoked but still forwarded until their new owner is ready. */
  private readonly giving = new Set<number>();
  /**
   * Per partition being taken over, its PVs still without a held value. Listed once per hand-over (hashing every
   * configured PV name each tick cost about 5 ms per 10,000 names and partition) and narrowed as values come; a
   * stream added meanwhile is not waited for.
   */
  private readonly awaitingValues = new Map<number, string[]>();
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    self: string,
    private readonly groupId: string,
    private readonly channel: HandoverChannel,
    private readonly sink: HandoverSink,
    private readonly streams: HandoverStreams,
    private readonly logger: Logger,
    timeouts: HandoverTimeouts = HANDOVER_TIMEOUTS,
  ) {
    this.agreement = new HandoverAgreement(self, timeouts);
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Whether the partition's streams run (forwarded, held, or still forwarded while handed over). */
  runs(partition: number): boolean {
    return this.live.has(partition) || this.held.has(partition) || this.giving.has(partition);
  }

  inProgress(): HandoverInProgress[] {
    return this.agreement.inProgress();
  }

  /** A message read from the coordination topic. */
  received(message: HandoverMessage): void {
    this.run(this.agreement.received(message, Date.now()));
  }

  /** Partitions assigned again after a lost session, whose streams never stopped: forwarded on. */
  resumed(partitions: readonly number[]): void {
    for (const partition of partitions) this.live.add(partition);
  }

  /**
   * Partitions assigned: their streams start at once, held, while the coordination topic is read up to date; then
   * each is forwarded, or waits for the hand-over somebody announced.
   */
  assigned(partitions: readonly number[]): void {
    void this.run(this.agreement.assigned(partitions));
    for (const partition of partitions) {
      void this.channel.caughtUp(partition, CATCH_UP_TIMEOUT_MS).then((caughtUp) => {
        if (!caughtUp) {
          this.logger.warn(
            `Forwarding group ${this.groupId}: could not read the coordination topic's partition ${partition} ` +
              `up to date within ${CATCH_UP_TIMEOUT_MS} ms; a hand-over announced there may be missed`,
          );
        }
        void this.run(this.agreement.caughtUp(partition, Date.now()));
        this.streams.progressed();
      });
    }
  }

  /**
   * Partitions revoked: their streams keep running while the agreement lasts. Resolves once the revocation was
   * announced, or, when Kafka did not take the announcement, once the streams were stopped and flushed.
   */
  async revoked(partitions: readonly number[]): Promise<void> {
    const actions = this.agreement.revoked(partitions, Date.now());
    const announcements = actions.flatMap((action) => (action.type === 'send' ? [action.message] : []));
    await this.run(actions.filter((action) => action.type !== 'send'));
    for (const partition of partitions) {
      this.live.delete(partition);
      this.held.delete(partition);
      this.giving.add(partition);
    }
    this.streams.progressed();
    const announced = await Promise.all(
      announcements.map((message) => this.channel.send(message, ANNOUNCE_TIMEOUT_MS)),
    );
    const unannounced = partitions.filter((_, index) => announced[index] !== true);
    if (unannounced.length > 0) {
      this.logger.warn(
        `Forwarding group ${this.groupId}: could not announce the hand-over of partitions ` +
          `${unannounced.join(', ')}; stopping their streams at once`,
      );
      await this.run(this.agreement.notAnnounced(unannounced));
    }
  }

  /** Partitions lost with the session: what is held is forwarded; the member's lingering set takes over. */
  async lost(partitions: readonly number[]): Promise<void> {
    await this.run(this.agreement.lost(partitions));
    for (const partition of partitions) this.live.delete(partition);
  }

  /** Resolves once no revoked partition is forwarded any more, or after `timeoutMs` (false). */
  async settled(timeoutMs: number): Promise<boolean> {
    const settled = (): boolean => this.giving.size === 0 && !this.agreement.stillForwardingRevoked;
    if (!(await waitUntil(settled, timeoutMs, TICK_MS))) return false;
    await this.chain;
    return true;
  }

  /** Stops every stream the driver runs (the member is leaving) and the clock. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
    this.live.clear();
    this.held.clear();
    this.giving.clear();
    this.streams.changed();
  }

  private tick(): void {
    const nowMs = Date.now();
    const actions = this.agreement.tick(nowMs);
    const subscribing = new Set<number>();
    for (const { partition, role, phase } of this.agreement.inProgress()) {
      if (role !== 'taking' || phase !== 'subscribing') continue;
      subscribing.add(partition);
      const awaiting = (this.awaitingValues.get(partition) ?? this.streams.pvNames(partition)).filter(
        (pv) => !this.sink.hasValue(pv),
      );
      this.awaitingValues.set(partition, awaiting);
      if (awaiting.length === 0) actions.push(...this.agreement.firstValues(partition, nowMs));
    }
    for (const partition of this.awaitingValues.keys())
      if (!subscribing.has(partition)) this.awaitingValues.delete(partition);
    if (actions.length > 0) void this.run(actions);
  }

  /** Carries actions out in order, after those already under way. */
  private run(actions: readonly HandoverAction[]): Promise<void> {
    if (actions.length === 0) return this.chain;
    this.chain = this.chain
      .then(async () => {
        for (const action of actions) await this.perform(action);
      })
      .catch((error: unknown) =>
        this.logger.error(
          `Forwarding group ${this.groupId}: a hand-over step failed: ${(error as Error).message}`,
        ),
      );
    return this.chain;
  }

  private async perform(action: HandoverAction): Promise<void> {
    if (action.type !== 'send') this.streams.progressed();
    switch (action.type) {
      case 'send':
        void this.channel.send(action.message, SEND_TIMEOUT_MS).then((delivered) => {
          if (!delivered)
            this.logger.warn(
              `Forwarding group ${this.groupId}: a hand-over message for partition ${action.message.partition} ` +
                `was not acknowledged within ${SEND_TIMEOUT_MS / 1000} s`,
            );
        });
        return;
      case 'hold':
        this.sink.hold(action.partition);
        this.held.add(action.partition);
        this.streams.changed();
        return;
      case 'forward': {
        const { forwarded, dropped, gapsPossible } = this.sink.release(action.partition, action.cuts);
        this.held.delete(action.partition);
        this.giving.delete(action.partition);
        this.live.add(action.partition);
        this.streams.changed();
        if (forwarded + dropped > 0) {
          this.logger.info(
            `Forwarding group ${this.groupId}: partition ${action.partition} live; of the messages held, ` +
              `${forwarded} forwarded, ${dropped} already forwarded by the old owner` +
              (gapsPossible > 0 ? `; ${gapsPossible} PVs may miss updates between the two owners` : ''),
          );
        }
        return;
      }
      case 'stop': {
        this.giving.delete(action.partition);
        this.streams.changed();
        const flushed = await this.streams.flush(RELEASE_FLUSH_MS);
        const cuts = this.sink.takeCuts(action.partition);
        for (const next of this.agreement.stopped(action.partition, cuts, flushed, Date.now()))
          await this.perform(next);
        return;
      }
      case 'ended': {
        const { partition, role, outcome, reason, peer } = action;
        const what =
          role === 'giving'
            ? `handed partition ${partition} over to ${peer || 'nobody'}`
            : `took partition ${partition} over from ${peer || 'nobody'}`;
        if (outcome === 'completed') this.logger.info(`Forwarding group ${this.groupId}: ${what}`);
        else this.logger.warn(`Forwarding group ${this.groupId}: ${what} without agreement (${reason})`);
        return;
      }
    }
  }
}
