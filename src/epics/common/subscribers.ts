/**
 * The subscribers of one channel, as both EPICS clients keep them: every listener of a PV name shares the
 * channel's one server subscription, gets its connection events and values, and may cancel on its own. A listener
 * that joins a channel already delivering gets the current state at once, as if it had been there all along.
 */
import {
  wallClockNs,
  type ConnectionEvent,
  type ConnectionState,
  type Subscription,
} from '../../model/update.js';

/** What every kind of listener hears: the channel's connection events. */
export interface ConnectionListener {
  onConnection(event: ConnectionEvent): void;
}

/** The channel behind a subscriber list. */
export interface SubscriberOwner {
  /** A listener threw: count and log it (listeners must not throw; one that does harms no other). */
  listenerFailed(error: unknown): void;
  /** The last subscriber cancelled. */
  lastCancelled(): void;
}

class Handle<L extends ConnectionListener, V> implements Subscription {
  active = true;
  /** The last value this listener got, so a replay never repeats what a live delivery already gave it. */
  lastDelivered: V | undefined;

  constructor(
    readonly listener: L,
    private readonly list: Subscribers<L, V>,
  ) {}

  cancel(): void {
    if (!this.active) return;
    this.active = false;
    this.list.remove(this);
  }
}

/**
 * Listeners of type L receiving values of type V (an update, a structure) through `deliver`. Connection states
 * are passed on when they change. The list is copy-on-write, so a listener may cancel itself or another during a
 * delivery; a cancelled listener gets nothing more.
 */
export class Subscribers<L extends ConnectionListener, V> {
  /** concat() sizes each copy exactly: an array grown by push would keep room for 17 (~150 bytes per channel). */
  private handles: readonly Handle<L, V>[] = [];
  private state: ConnectionState | undefined;
  private detail: string | undefined;
  private unsupported: string | undefined;
  private last: V | undefined;

  constructor(
    private readonly owner: SubscriberOwner,
    private readonly deliver: (listener: L, value: V) => void,
    /** What a late joiner is given, when that is not simply the last value (a whole structure, not a delta). */
    private readonly current: (() => V | undefined) | undefined = undefined,
  ) {}

  get size(): number {
    return this.handles.length;
  }

  /** The last state passed on; undefined before the first. */
  get connection(): ConnectionState | undefined {
    return this.state;
  }

  get connectionDetail(): string | undefined {
    return this.detail;
  }

  add(listener: L): Subscription {
    const handle = new Handle(listener, this);
    this.handles = this.handles.concat(handle);
    // After the caller holds the subscription, so a listener can cancel from its first call.
    if (this.state === 'connected') queueMicrotask(() => this.replay(handle));
    return handle;
  }

  /** @internal Used by Subscription.cancel(). */
  remove(handle: Handle<L, V>): void {
    this.handles = this.handles.filter((other) => other !== handle);
    if (this.handles.length === 0) this.owner.lastCancelled();
  }

  /** Cancels every subscription without telling the owner (the channel is closing). */
  clear(): void {
    for (const handle of this.handles) handle.active = false;
    this.handles = [];
  }

  /**
   * Passes a new connection state on (nothing when it is the current one); leaving "connected" drops the value.
   * `unsupported`: connected, but why no value of this channel can be delivered.
   */
  publishConnection(state: ConnectionState, detail?: string, unsupported?: string): void {
    if (state === this.state) return;
    this.state = state;
    this.detail = detail;
    this.unsupported = unsupported;
    if (state !== 'connected') this.last = undefined;
    const event = connectionEvent(state, detail, unsupported);
    for (const handle of this.handles) if (handle.active) this.notify(handle, event);
  }

  /**
   * A server-side loss: passed on when listeners were told anything before, or when it says more than that the
   * channel is not connected (a destroyed channel, a refused subscription).
   */
  publishLoss(state: ConnectionState, detail: string): void {
    if (this.state !== undefined || state !== 'disconnected') this.publishConnection(state, detail);
  }

  /** Delivers a value to every listener; returns how many got it. */
  publish(value: V): number {
    this.last = value;
    const handles = this.handles;
    let delivered = 0;
    for (let i = 0; i < handles.length; i++) {
      const handle = handles[i] as Handle<L, V>;
      if (!handle.active) continue;
      this.deliverTo(handle, value);
      delivered++;
    }
    return delivered;
  }

  private replay(handle: Handle<L, V>): void {
    if (!handle.active || this.state !== 'connected') return;
    const value = this.current ? this.current() : this.last;
    // A live delivery between add() and now already gave this listener the current value.
    if (value !== undefined && handle.lastDelivered === value) return;
    this.notify(handle, connectionEvent('connected', this.detail, this.unsupported));
    if (value !== undefined && handle.active) this.deliverTo(handle, value);
  }

  private deliverTo(handle: Handle<L, V>, value: V): void {
    handle.lastDelivered = value;
    try {
      this.deliver(handle.listener, value);
    } catch (error) {
      this.owner.listenerFailed(error);
    }
  }

  private notify(handle: Handle<L, V>, event: ConnectionEvent): void {
    try {
      handle.listener.onConnection(event);
    } catch (error) {
      this.owner.listenerFailed(error);
    }
  }
}

function connectionEvent(
  state: ConnectionState,
  detail: string | undefined,
  unsupported: string | undefined,
): ConnectionEvent {
  return {
    state,
    timestampNs: wallClockNs(),
    ...(detail === undefined ? {} : { detail }),
    ...(unsupported === undefined ? {} : { unsupported }),
  };
}
