import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamSpec } from '../../../src/model/stream.js';
import type { PvProvider, Subscription } from '../../../src/model/update.js';
import { Forwarder } from '../../../src/forwarding/forwarder.js';
import type { Logger } from '../../../src/logging/logger.js';

const quiet: Logger = {
  warn: () => undefined,
  error: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

/** Counts subscriptions by PV, so a test sees what the forwarder subscribed and cancelled. */
class CountingProvider implements PvProvider {
  readonly live = new Map<string, number>();

  subscribe(pvName: string): Subscription {
    this.live.set(pvName, (this.live.get(pvName) ?? 0) + 1);
    return {
      cancel: () => {
        this.live.set(pvName, (this.live.get(pvName) ?? 0) - 1);
        if (this.live.get(pvName) === 0) this.live.delete(pvName);
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const stream = (pvName: string): StreamSpec => ({
  pvName,
  protocol: 'fake',
  topic: 'data',
  schema: 'f144',
  periodic: false,
});

function subject(): { forwarder: Forwarder; provider: CountingProvider } {
  const provider = new CountingProvider();
  const forwarder = new Forwarder({
    sink: { send: () => undefined },
    logger: quiet,
    providerFactory: () => provider,
  });
  return { forwarder, provider };
}

const names = (forwarder: Forwarder): string[] =>
  forwarder.streamStatuses().map((status) => status.spec.pvName);

describe('Forwarder: forwarding a selection of the desired streams', () => {
  it('forwards every stream unless told otherwise', () => {
    const { forwarder, provider } = subject();
    forwarder.applyCommand({ type: 'add', streams: [stream('A'), stream('B')] });
    assert.deepEqual([...provider.live.keys()], ['A', 'B']);
    assert.deepEqual(names(forwarder), ['A', 'B']);
  });

  it('subscribes only selected streams, and follows a new selection', () => {
    const { forwarder, provider } = subject();
    assert.deepEqual(
      forwarder.selectForwarded(() => false),
      { started: 0, stopped: 0 },
    );
    forwarder.applyCommand({ type: 'add', streams: [stream('A'), stream('B'), stream('C')] });
    assert.equal(provider.live.size, 0);
    assert.deepEqual(names(forwarder), []);
    assert.equal(forwarder.streams().length, 3, 'every desired stream is kept');

    assert.deepEqual(
      forwarder.selectForwarded((spec) => spec.pvName !== 'B'),
      { started: 2, stopped: 0 },
    );
    assert.deepEqual([...provider.live.keys()].sort(), ['A', 'C']);
    assert.deepEqual(
      forwarder.selectForwarded((spec) => spec.pvName === 'B'),
      { started: 1, stopped: 2 },
    );
    assert.deepEqual([...provider.live.keys()], ['B']);
    assert.deepEqual(names(forwarder), ['B']);
  });

  it('applies commands to unselected streams without subscribing them', () => {
    const { forwarder, provider } = subject();
    forwarder.selectForwarded((spec) => spec.pvName.startsWith('MINE'));
    forwarder.applyCommand({ type: 'add', streams: [stream('MINE:1'), stream('OTHER:1')] });
    forwarder.applyCommand({ type: 'remove', patterns: [{ pvName: '*:1', topic: '*', schema: '' }] });
    assert.equal(provider.live.size, 0);
    assert.equal(forwarder.streams().length, 0);
    forwarder.applyCommand({ type: 'replace', streams: [stream('OTHER:2'), stream('MINE:2')] });
    assert.deepEqual([...provider.live.keys()], ['MINE:2']);
    assert.deepEqual(
      forwarder.selectForwarded(() => true),
      { started: 1, stopped: 0 },
    );
    assert.deepEqual([...provider.live.keys()].sort(), ['MINE:2', 'OTHER:2']);
  });
});
