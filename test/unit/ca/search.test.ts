import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from '../../../src/epics/ca/constants.js';
import { decodeDatagram } from '../../../src/epics/ca/messages.js';
import { BeaconTracker, packSearchDatagrams, SearchScheduler } from '../../../src/epics/ca/search.js';

const options = { initialDelayMs: 100, maxPeriodMs: 1000, boostSpreadMs: 50, random: () => 0.5 };

describe('search scheduling', () => {
  it('searches at once, then backs off by doubling up to the cap', () => {
    const scheduler = new SearchScheduler(options);
    scheduler.add(1, 'A', 0);
    const attempts: number[] = [];
    for (let now = 0; now <= 5000; now += 10) {
      if (scheduler.takeDue(now, 100).length > 0) attempts.push(now);
    }
    assert.deepEqual(attempts, [0, 100, 300, 700, 1500, 2500, 3500, 4500]);
  });

  it('hands out due names in due order within a limit and forgets removed ones', () => {
    const scheduler = new SearchScheduler(options);
    for (let cid = 1; cid <= 5; cid++) scheduler.add(cid, `PV${cid}`, 0, 10 * (6 - cid));
    scheduler.remove(3);
    assert.deepEqual(
      scheduler.takeDue(100, 3).map((request) => request.cid),
      [5, 4, 2],
    );
    assert.deepEqual(
      scheduler.takeDue(100, 3).map((request) => request.cid),
      [1],
    );
    assert.equal(scheduler.pendingCount, 4);
    assert.equal(scheduler.nextDue(), 200);
  });

  it('pulls every waiting name forward on a boost', () => {
    const scheduler = new SearchScheduler(options);
    scheduler.add(1, 'A', 0, 60_000);
    scheduler.add(2, 'B', 0, 10);
    scheduler.boost(1000);
    assert.equal(scheduler.nextDue(), 10);
    assert.deepEqual(
      scheduler.takeDue(1025, 10).map((request) => request.cid),
      [2, 1],
    );
  });
});

describe('search datagrams', () => {
  it('packs many names per datagram, each led by VERSION with its sequence number', () => {
    const requests = Array.from({ length: 200 }, (_, i) => ({ cid: i + 1, name: `SOME:PV:NAME:${i}` }));
    const datagrams = packSearchDatagrams(requests, 7);
    assert.ok(datagrams.length > 1 && datagrams.length < 10);
    const seen: number[] = [];
    datagrams.forEach((datagram, index) => {
      assert.ok(datagram.length <= 1400);
      const [version, ...searches] = decodeDatagram(datagram);
      assert.equal(version?.header.command, Command.VERSION);
      assert.equal(version?.header.p1, 7 + index);
      for (const { header, payload } of searches) {
        assert.equal(header.command, Command.SEARCH);
        assert.equal(header.dataType, 5);
        assert.equal(header.p1, header.p2);
        assert.equal(payload.toString('latin1').replace(/\0+$/, ''), `SOME:PV:NAME:${header.p1 - 1}`);
        seen.push(header.p1);
      }
    });
    assert.deepEqual(
      seen,
      requests.map((request) => request.cid),
    );
  });

  it('sends a name longer than a datagram on its own', () => {
    const datagrams = packSearchDatagrams(
      [
        { cid: 1, name: 'x'.repeat(2000) },
        { cid: 2, name: 'y' },
      ],
      0,
    );
    assert.equal(datagrams.length, 2);
  });
});

describe('beacon anomalies', () => {
  it('flags a freshly booted server, a restart and a long gap; ignores duplicates', () => {
    const tracker = new BeaconTracker();
    assert.equal(tracker.observe('a:1', 1000, 0), false); // known for a long time
    assert.equal(tracker.observe('a:1', 1001, 15_000), false);
    assert.equal(tracker.observe('a:1', 1001, 15_001), false); // the same beacon over another route
    assert.equal(tracker.observe('a:1', 1002, 30_000), false);
    assert.equal(tracker.observe('a:1', 0, 31_000), true); // rebooted
    assert.equal(tracker.observe('a:1', 1, 31_020), false);
    assert.equal(tracker.observe('b:1', 0, 40_000), true); // new server, just booted
    assert.equal(tracker.observe('c:1', 500, 40_000), false);
    assert.equal(tracker.observe('c:1', 501, 40_100), false);
    assert.equal(tracker.observe('c:1', 502, 40_200), false);
    assert.equal(tracker.observe('c:1', 503, 45_000), true); // heard again after a gap
  });
});
