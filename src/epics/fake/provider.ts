/**
 * The "fake" protocol: PVs that need no EPICS server, for trying out a deployment. Every `periodMs` each
 * subscription gets a random integer 0-100 stamped with the whole seconds of the wall clock and no alarm, as
 * the reference's fake PVs do. The value is a one-element int32 array: f144/f142 send it as a scalar Int, tdct as
 * one timestamp. One timer serves every fake PV.
 */
import {
  type ConnectionEvent,
  type PvProvider,
  type PvUpdate,
  type Subscription,
  type SubscriptionListener,
  wallClockNs,
} from '../../model/update.js';

const NO_ALARM = { severity: 0, status: 0, message: '' } as const;

export interface FakeProviderOptions {
  readonly periodMs: number;
  /** Random number in [0, 1); tests substitute their own. */
  readonly random?: () => number;
  readonly now?: () => number;
}

export class FakeProvider implements PvProvider {
  /** One entry per subscription (a listener may subscribe twice; each cancel ends only its own). */
  private readonly subscriptions = new Set<{ readonly listener: SubscriptionListener }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: FakeProviderOptions) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  subscribe(_pvName: string, listener: SubscriptionListener): Subscription {
    const subscription = { listener };
    this.subscriptions.add(subscription);
    this.timer ??= setInterval(() => this.tick(), this.options.periodMs);
    const connected: ConnectionEvent = { state: 'connected', timestampNs: wallClockNs() };
    queueMicrotask(() => {
      if (this.subscriptions.has(subscription)) listener.onConnection(connected);
    });
    return {
      cancel: () => {
        this.subscriptions.delete(subscription);
        if (this.subscriptions.size === 0) this.stopTimer();
      },
    };
  }

  async close(): Promise<void> {
    this.subscriptions.clear();
    this.stopTimer();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const timestampNs = BigInt(Math.floor(this.now() / 1000)) * 1_000_000_000n;
    for (const { listener } of this.subscriptions) {
      const update: PvUpdate = {
        value: { kind: 'array', type: 'int32', value: Int32Array.of(Math.floor(this.random() * 101)) },
        timestampNs,
        alarm: NO_ALARM,
      };
      listener.onUpdate(update);
    }
  }
}
