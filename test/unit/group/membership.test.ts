import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heartbeatIntervalMs } from '../../../src/group/membership.js';

describe('group membership settings', () => {
  it('heartbeats every 500 ms, and at least three times per session timeout', () => {
    assert.equal(heartbeatIntervalMs(6_000), 500);
    assert.equal(heartbeatIntervalMs(45_000), 500);
    assert.equal(heartbeatIntervalMs(1_200), 400);
    assert.equal(heartbeatIntervalMs(100), 100);
  });
});
