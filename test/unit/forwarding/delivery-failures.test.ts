import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryFailures } from '../../../src/forwarding/delivery-failures.js';

describe('delivery failures per topic and PV', () => {
  it('counts each pair with its last reason and time', () => {
    const failures = new DeliveryFailures();
    failures.note('data', 'PV:A', 'Broker: Message size too large', 1000);
    failures.note('data', 'PV:A', 'Local: Message timed out', 2000);
    failures.note('other', 'PV:A', 'Local: Unknown topic', 3000);
    assert.deepEqual(failures.of('data', 'PV:A'), {
      count: 2,
      reason: 'Local: Message timed out',
      lastMs: 2000,
    });
    assert.deepEqual(failures.of('other', 'PV:A'), {
      count: 1,
      reason: 'Local: Unknown topic',
      lastMs: 3000,
    });
    assert.equal(failures.of('data', 'PV:B'), undefined);
  });

  it('keeps a bounded number of pairs and counts the rest in total', () => {
    const failures = new DeliveryFailures();
    for (let i = 0; i < 10_005; i++) failures.note('data', `PV:${i}`, 'refused', i);
    assert.equal(failures.untracked, 5);
    assert.equal(failures.of('data', 'PV:10004'), undefined);
    assert.equal(failures.of('data', 'PV:0')?.count, 1);
  });
});
