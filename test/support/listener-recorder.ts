import type { ConnectionEvent, PvUpdate, SubscriptionListener } from '../../src/model/update.js';

/**
 * A subscription listener that records what it receives, in arrival order, and lets a test wait until a condition
 * on it holds. The CA and PVA test helpers build on it.
 */
export class ListenerRecorder implements SubscriptionListener {
  readonly updates: PvUpdate[] = [];
  readonly events: ConnectionEvent[] = [];
  /** Connection states and "update" markers in arrival order. */
  readonly sequence: string[] = [];
  private readonly waiters = new Set<() => void>();

  onUpdate(update: PvUpdate): void {
    this.updates.push(update);
    this.sequence.push('update');
    this.wake();
  }

  onConnection(event: ConnectionEvent): void {
    this.events.push(event);
    this.sequence.push(event.state);
    this.wake();
  }

  get states(): string[] {
    return this.events.map((event) => event.state);
  }

  get last(): PvUpdate | undefined {
    return this.updates.at(-1);
  }

  /** Resolves once `condition` holds (checked now and after every callback); rejects after `timeoutMs`. */
  protected async until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolveWait, rejectWait) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolveWait();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        rejectWait(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; states ${this.states.join(',')}`),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves with the first update after the first `from` that satisfies `predicate`. */
  protected async untilUpdate(
    predicate: (update: PvUpdate) => boolean,
    what: string,
    from: number,
    timeoutMs: number,
  ): Promise<PvUpdate> {
    let found: PvUpdate | undefined;
    await this.until(
      () => {
        found = this.updates.slice(from).find(predicate);
        return found !== undefined;
      },
      what,
      timeoutMs,
    );
    return found as PvUpdate;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
