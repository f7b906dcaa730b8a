import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { FakeProvider } from '../../../src/epics/fake/provider.js';
import type { ConnectionEvent, PvUpdate } from '../../../src/model/update.js';

describe('fake provider', () => {
  it('connects, then ticks every period with a random 0-100 integer on whole seconds, from one timer', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const provider = new FakeProvider({
        periodMs: 1000,
        random: () => 0.999,
        now: () => 1_700_000_000_750,
      });
      const events: Array<ConnectionEvent | PvUpdate> = [];
      const listener = {
        onUpdate: (u: PvUpdate) => events.push(u),
        onConnection: (e: ConnectionEvent) => events.push(e),
      };
      const first = provider.subscribe('FAKE:1', listener);
      provider.subscribe('FAKE:2', listener);
      await Promise.resolve();
      assert.equal(events.filter((e) => 'state' in e && e.state === 'connected').length, 2);
      mock.timers.tick(1000);
      const updates = events.filter((e): e is PvUpdate => 'value' in e);
      assert.equal(updates.length, 2);
      assert.deepEqual(updates[0]?.value, { kind: 'array', type: 'int32', value: Int32Array.of(100) });
      assert.equal(updates[0]?.timestampNs, 1_700_000_000_000_000_000n);
      first.cancel();
      mock.timers.tick(1000);
      assert.equal(events.filter((e) => 'value' in e).length, 3);
      await provider.close();
    } finally {
      mock.timers.reset();
    }
  });
});
