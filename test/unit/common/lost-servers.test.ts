import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LostServers } from '../../../src/epics/common/lost-servers.js';

describe('LostServers', () => {
  it('tells the channel count of a server once, when it is back', () => {
    const lost = new LostServers();
    assert.equal(lost.returned('127.0.0.1:5064'), undefined, 'never lost');
    lost.lost('127.0.0.1:5064', 12);
    lost.lost('127.0.0.1:5064', 15);
    assert.equal(lost.returned('127.0.0.1:5064'), 15, 'the latest count');
    assert.equal(lost.returned('127.0.0.1:5064'), undefined, 'told once');
  });

  it('forgets the oldest once more than its limit are remembered', () => {
    const lost = new LostServers(2);
    lost.lost('a:1', 1);
    lost.lost('b:1', 2);
    lost.lost('a:1', 3);
    lost.lost('c:1', 4);
    assert.equal(lost.returned('b:1'), undefined, 'b was the oldest');
    assert.equal(lost.returned('a:1'), 3);
    assert.equal(lost.returned('c:1'), 4);
  });
});
