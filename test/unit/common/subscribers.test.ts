import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SubscriberOwner, Subscribers } from '../../../src/epics/common/subscribers.js';
import type { ConnectionEvent, SubscriptionListener } from '../../../src/model/update.js';

type Update = Parameters<SubscriptionListener['onUpdate']>[0];

function owner(): SubscriberOwner & { errors: unknown[]; emptied: number } {
  const record = {
    errors: [] as unknown[],
    emptied: 0,
    listenerFailed: (error: unknown) => record.errors.push(error),
    lastCancelled: () => record.emptied++,
  };
  return record;
}

function recorder(): SubscriptionListener & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    onUpdate: (update) => seen.push(`update ${update.value.kind === 'scalar' ? update.value.value : '?'}`),
    onConnection: (event) => seen.push(event.state),
  };
}

const update = (value: number): Update => ({
  value: { kind: 'scalar', type: 'float64', value },
  timestampNs: 1n,
  alarm: { severity: 0, status: 0, message: '' },
});

const list = (o: SubscriberOwner): Subscribers<SubscriptionListener, Update> =>
  new Subscribers<SubscriptionListener, Update>(o, (listener, value) => listener.onUpdate(value));

describe('channel subscribers', () => {
  it('passes connection changes once and values to every listener', () => {
    const subscribers = list(owner());
    const a = recorder();
    const b = recorder();
    subscribers.add(a);
    subscribers.add(b);
    subscribers.publishConnection('connected', 'server 1');
    subscribers.publishConnection('connected', 'server 1');
    subscribers.publish(update(1));
    subscribers.publishConnection('disconnected', 'gone');
    for (const listener of [a, b]) assert.deepEqual(listener.seen, ['connected', 'update 1', 'disconnected']);
  });

  it('gives a late joiner the current state after it holds its subscription, without repeating a live value', async () => {
    const subscribers = list(owner());
    subscribers.publishConnection('connected', 'server 1');
    subscribers.publish(update(1));
    const late = recorder();
    subscribers.add(late);
    assert.deepEqual(late.seen, [], 'nothing before add() returns');
    await Promise.resolve();
    assert.deepEqual(late.seen, ['connected', 'update 1']);

    const raced = recorder();
    subscribers.add(raced);
    subscribers.publish(update(2));
    await Promise.resolve();
    assert.deepEqual(raced.seen, ['update 2'], 'the live value was the current one: no replay');
  });

  it('gives early and late listeners the server and why values cannot be delivered, with the connection', async () => {
    const subscribers = list(owner());
    const events: ConnectionEvent[] = [];
    const listener = {
      onUpdate: () => undefined,
      onConnection: (event: ConnectionEvent) => events.push(event),
    };
    subscribers.add(listener);
    subscribers.publishConnection('connected', '127.0.0.1:5075', 'cannot be forwarded: a structure array');
    subscribers.add(listener);
    await Promise.resolve();
    assert.deepEqual(
      events.map(({ state, detail, unsupported }) => ({ state, detail, unsupported })),
      [
        {
          state: 'connected',
          detail: '127.0.0.1:5075',
          unsupported: 'cannot be forwarded: a structure array',
        },
        {
          state: 'connected',
          detail: '127.0.0.1:5075',
          unsupported: 'cannot be forwarded: a structure array',
        },
      ],
    );
    subscribers.publishConnection('disconnected', 'gone');
    assert.equal('unsupported' in (events.at(-1) ?? {}), false);
  });

  it('tells of a loss only when listeners heard something before, unless it says more than "disconnected"', () => {
    const quiet = list(owner());
    const a = recorder();
    quiet.add(a);
    quiet.publishLoss('disconnected', 'never connected');
    quiet.publishLoss('destroyed', 'the server destroyed the channel');
    assert.deepEqual(a.seen, ['destroyed']);
  });

  it('lets a listener cancel itself during a delivery, counts what listeners throw, and reports the last cancel', () => {
    const o = owner();
    const subscribers = list(o);
    const thrower: SubscriptionListener = {
      onUpdate: () => {
        throw new Error('boom');
      },
      onConnection: () => undefined,
    };
    const after = recorder();
    const throwing = subscribers.add(thrower);
    const cancelling = subscribers.add({
      onUpdate: () => cancelling.cancel(),
      onConnection: () => undefined,
    });
    const last = subscribers.add(after);
    subscribers.publish(update(1));
    subscribers.publish(update(2));
    assert.deepEqual(after.seen, ['update 1', 'update 2']);
    assert.equal(o.errors.length, 2);
    assert.equal(subscribers.size, 2);
    last.cancel();
    last.cancel();
    assert.equal(o.emptied, 0);
    throwing.cancel();
    assert.equal(o.emptied, 1, 'the last cancel tells the owner');
    subscribers.add(recorder());
    subscribers.clear();
    assert.equal(subscribers.size, 0);
    assert.equal(o.emptied, 1, 'clear() is the owner closing: it is not told');
  });
});
