import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyCut,
  type HandoverAction,
  HandoverAgreement,
  type HandoverTimeouts,
} from '../../../src/group/handover.js';
import {
  decodeHandoverMessage,
  encodeHandoverMessage,
  HandoverKind,
  type HandoverMessage,
} from '../../../src/group/handover-message.js';

const TIMEOUTS: HandoverTimeouts = {
  readyMs: 8_000,
  firstValuesMs: 2_000,
  releasedMs: 7_000,
  keepCutsMs: 30_000,
};
const CUTS = new Map([
  ['PV:A', 100n],
  ['PV:B', 200n],
]);

/** The messages among the actions, as they would arrive after a trip through the coordination topic. */
function sent(actions: readonly HandoverAction[]): HandoverMessage[] {
  return actions.flatMap((action) =>
    action.type === 'send' ? [decodeHandoverMessage(encodeHandoverMessage(action.message))] : [],
  );
}

function deliver(to: HandoverAgreement, actions: readonly HandoverAction[], nowMs: number): HandoverAction[] {
  return sent(actions).flatMap((message) => to.received(message, nowMs));
}

const withoutSends = (actions: readonly HandoverAction[]): HandoverAction[] =>
  actions.filter((action) => action.type !== 'send');

/** Old owner `a` has announced partition 3; new owner `b` has read it and been assigned the partition. */
/** What a new owner taking partition 3 from a does when cut off: forward what it holds, and fall back. */
const INTERRUPTED_TAKE_FROM_A: HandoverAction[] = [
  { type: 'forward', partition: 3, cuts: undefined },
  { type: 'ended', partition: 3, role: 'taking', outcome: 'fallen_back', reason: 'interrupted', peer: 'a' },
];

/** RELEASED of partition 3 with CUTS, from `sender` to `recipient`. */
function released(sender: string, recipient: string): HandoverMessage {
  return { kind: HandoverKind.Released, partition: 3, sender, recipient, cuts: CUTS };
}

function announcedAndHeld(): { a: HandoverAgreement; b: HandoverAgreement } {
  const a = new HandoverAgreement('a', TIMEOUTS);
  const b = new HandoverAgreement('b', TIMEOUTS);
  const announcement = a.revoked([3], 0);
  assert.deepEqual(sent(announcement), [
    { kind: HandoverKind.Releasing, partition: 3, sender: 'a', recipient: '', cuts: new Map() },
  ]);
  assert.deepEqual(deliver(b, announcement, 10), []);
  assert.deepEqual(b.assigned([3]), [{ type: 'hold', partition: 3 }]);
  assert.deepEqual(b.caughtUp(3, 1_000), [], 'announced: b waits for the agreement');
  return { a, b };
}

describe('the hand-over agreement', () => {
  it('hands a partition over: hold, READY, stop, RELEASED with the cuts, forward after them', () => {
    const { a, b } = announcedAndHeld();
    assert.deepEqual(a.inProgress(), [
      { partition: 3, role: 'giving', from: 'a', to: '', phase: 'announced', sinceMs: 0 },
    ]);
    assert.deepEqual(b.inProgress(), [
      { partition: 3, role: 'taking', from: 'a', to: 'b', phase: 'subscribing', sinceMs: 1_000 },
    ]);
    const ready = b.firstValues(3, 1_200);
    assert.deepEqual(sent(ready), [
      { kind: HandoverKind.Ready, partition: 3, sender: 'b', recipient: 'a', cuts: new Map() },
    ]);
    assert.deepEqual(deliver(a, ready, 1_250), [{ type: 'stop', partition: 3 }]);
    assert.equal(a.stillForwardingRevoked, true);
    assert.equal(a.inProgress()[0]?.to, 'b');

    const stopped = a.stopped(3, CUTS, true, 1_400);
    assert.deepEqual(sent(stopped), [released('a', 'b')]);
    assert.deepEqual(withoutSends(stopped), [
      { type: 'ended', partition: 3, role: 'giving', outcome: 'completed', peer: 'b' },
    ]);
    assert.equal(a.stillForwardingRevoked, false);
    assert.deepEqual(deliver(b, stopped, 1_450), [
      { type: 'forward', partition: 3, cuts: CUTS },
      { type: 'ended', partition: 3, role: 'taking', outcome: 'completed', peer: 'a' },
    ]);
    assert.deepEqual([a.inProgress(), b.inProgress()], [[], []]);
    assert.deepEqual(a.counts.completed, { giving: 1, taking: 0 });
    assert.deepEqual(b.counts.completed, { giving: 0, taking: 1 });
  });

  it('holds a new partition until the topic is read, then forwards it when nobody announced it', () => {
    const b = new HandoverAgreement('b', TIMEOUTS);
    assert.deepEqual(b.assigned([1, 2]), [
      { type: 'hold', partition: 1 },
      { type: 'hold', partition: 2 },
    ]);
    assert.deepEqual(b.inProgress(), [], 'no hand-over: a dead member, a new group');
    assert.deepEqual(b.caughtUp(1, 300), [{ type: 'forward', partition: 1, cuts: undefined }]);
    assert.deepEqual(b.caughtUp(1, 300), [], 'once');
    // Revoked or lost while still reading: what it held is forwarded, with no hand-over to count.
    assert.deepEqual(withoutSends(b.revoked([2], 400)), [{ type: 'forward', partition: 2, cuts: undefined }]);
    assert.deepEqual(b.caughtUp(2, 500), []);
    b.assigned([5]);
    assert.deepEqual(b.lost([5]), [{ type: 'forward', partition: 5, cuts: undefined }]);
    assert.deepEqual(b.counts.fallenBack.interrupted, 0);
  });

  it('forgets an announcement nobody completed, so that a later assignment does not wait for it', () => {
    const a = new HandoverAgreement('a', TIMEOUTS);
    const b = new HandoverAgreement('b', TIMEOUTS);
    deliver(b, a.revoked([3], 0), 0);
    const later = TIMEOUTS.readyMs + TIMEOUTS.releasedMs;
    b.tick(later);
    b.assigned([3]);
    assert.deepEqual(b.caughtUp(3, later), [{ type: 'forward', partition: 3, cuts: undefined }]);
  });

  it('sends READY when the first values take too long', () => {
    const { b } = announcedAndHeld();
    assert.deepEqual(b.tick(2_999), []);
    assert.deepEqual(sent(b.tick(3_000)), [
      { kind: HandoverKind.Ready, partition: 3, sender: 'b', recipient: 'a', cuts: new Map() },
    ]);
    assert.deepEqual(b.firstValues(3, 3_100), [], 'READY goes once');
  });

  it('old owner: without READY it stops at the deadline, and answers a late READY with the kept cuts', () => {
    const { a } = announcedAndHeld();
    assert.deepEqual(a.tick(7_999), []);
    assert.deepEqual(a.tick(8_000), [{ type: 'stop', partition: 3 }]);
    assert.deepEqual(a.tick(8_001), [], 'stopped once');
    assert.deepEqual(a.stopped(3, CUTS, true, 8_100), [
      { type: 'ended', partition: 3, role: 'giving', outcome: 'fallen_back', reason: 'no-ready', peer: '' },
    ]);
    assert.equal(a.stillForwardingRevoked, false);

    // Another new owner (the first one died) asks later: it gets the cuts.
    const c = new HandoverAgreement('c', TIMEOUTS);
    const late = a.received(
      { kind: HandoverKind.Ready, partition: 3, sender: 'c', recipient: 'a', cuts: new Map() },
      20_000,
    );
    assert.deepEqual(sent(late), [released('a', 'c')]);
    assert.deepEqual(deliver(c, late, 20_000), [], 'c holds nothing for partition 3');

    // After keepCutsMs they are forgotten.
    a.tick(8_100 + TIMEOUTS.keepCutsMs);
    assert.deepEqual(
      a.received(
        { kind: HandoverKind.Ready, partition: 3, sender: 'c', recipient: 'a', cuts: new Map() },
        40_000,
      ),
      [],
    );
    assert.equal(a.counts.fallenBack['no-ready'], 1);
  });

  it('new owner: without RELEASED it forwards everything it holds at the deadline', () => {
    const { b } = announcedAndHeld();
    b.firstValues(3, 1_200);
    assert.deepEqual(b.inProgress()[0]?.phase, 'ready');
    assert.deepEqual(b.tick(8_199), []);
    assert.deepEqual(b.tick(8_200), [
      { type: 'forward', partition: 3, cuts: undefined },
      {
        type: 'ended',
        partition: 3,
        role: 'taking',
        outcome: 'fallen_back',
        reason: 'no-released',
        peer: 'a',
      },
    ]);
    assert.deepEqual(b.inProgress(), []);
    // A RELEASED arriving after that changes nothing.
    assert.deepEqual(b.received(released('a', 'b'), 9_000), []);
  });

  it('counts a flush that timed out as a fallback, and still sends the cuts', () => {
    const { a, b } = announcedAndHeld();
    deliver(a, b.firstValues(3, 1_200), 1_200);
    const stopped = a.stopped(3, CUTS, false, 6_300);
    assert.equal(sent(stopped).length, 1);
    assert.deepEqual(withoutSends(stopped), [
      {
        type: 'ended',
        partition: 3,
        role: 'giving',
        outcome: 'fallen_back',
        reason: 'flush-timeout',
        peer: 'b',
      },
    ]);
  });

  it('stops at once when Kafka did not take the announcement, and says so', () => {
    const { a } = announcedAndHeld();
    assert.deepEqual(a.notAnnounced([3, 4]), [{ type: 'stop', partition: 3 }]);
    assert.deepEqual(a.stopped(3, CUTS, true, 2_100), [
      {
        type: 'ended',
        partition: 3,
        role: 'giving',
        outcome: 'fallen_back',
        reason: 'not-announced',
        peer: '',
      },
    ]);
  });

  it('answers every READY that arrives while it stops', () => {
    const { a, b } = announcedAndHeld();
    const c = new HandoverAgreement('c', TIMEOUTS);
    deliver(a, b.firstValues(3, 1_200), 1_200);
    assert.deepEqual(
      a.received(
        { kind: HandoverKind.Ready, partition: 3, sender: 'c', recipient: 'a', cuts: new Map() },
        1_300,
      ),
      [],
    );
    const stopped = a.stopped(3, CUTS, true, 1_400);
    assert.deepEqual(
      sent(stopped).map((message) => message.recipient),
      ['b', 'c'],
    );
    assert.deepEqual(withoutSends(stopped), [
      { type: 'ended', partition: 3, role: 'giving', outcome: 'completed', peer: 'b,c' },
    ]);
    assert.equal(deliver(c, stopped, 1_500).length, 0, 'c was not taking the partition');
  });

  it('new owner revoked or cut off mid-agreement: forwards what it holds, then hands over itself', () => {
    const { b } = announcedAndHeld();
    const actions = b.revoked([3], 1_500);
    assert.deepEqual(withoutSends(actions), INTERRUPTED_TAKE_FROM_A);
    assert.deepEqual(
      sent(actions).map((message) => message.kind),
      [HandoverKind.Releasing],
    );
    assert.deepEqual(
      b.inProgress().map((entry) => entry.role),
      ['giving'],
    );

    const { b: cutOff } = announcedAndHeld();
    assert.deepEqual(withoutSends(cutOff.lost([3, 4])), INTERRUPTED_TAKE_FROM_A);
  });

  it('forwards again a partition given back before anybody took it', () => {
    const a = new HandoverAgreement('a', TIMEOUTS);
    a.revoked([3], 0);
    assert.deepEqual(a.assigned([3]), [{ type: 'forward', partition: 3, cuts: undefined }]);
    assert.deepEqual(a.inProgress(), []);
    assert.deepEqual(a.tick(TIMEOUTS.readyMs), [], 'no stop after it was given back');
  });

  it('takes a partition it handed over earlier back through the agreement, like any other', () => {
    const { a, b } = announcedAndHeld();
    deliver(a, b.firstValues(3, 1_200), 1_200);
    deliver(b, a.stopped(3, CUTS, true, 1_400), 1_400);
    // Later b leaves and a gets the partition back: b's announcement makes a hold it.
    deliver(a, b.revoked([3], 20_000), 20_000);
    assert.deepEqual(a.assigned([3]), [{ type: 'hold', partition: 3 }]);
    assert.deepEqual(a.caughtUp(3, 21_000), []);
    assert.deepEqual(a.inProgress()[0], {
      partition: 3,
      role: 'taking',
      from: 'b',
      to: 'a',
      phase: 'subscribing',
      sinceMs: 21_000,
    });
  });

  it('ignores its own messages and RELEASED meant for another member', () => {
    const { a, b } = announcedAndHeld();
    assert.deepEqual(
      a.received(
        { kind: HandoverKind.Ready, partition: 3, sender: 'a', recipient: 'a', cuts: new Map() },
        1_000,
      ),
      [],
    );
    assert.deepEqual(b.received(released('a', 'z'), 1_000), []);
    assert.equal(b.inProgress().length, 1);
    // RELEASED from a member b did not wait for, even when addressed to b.
    assert.deepEqual(b.received(released('z', 'b'), 1_000), []);
  });

  it('leaves a READY to the member that announced it: an earlier owner keeping stale cuts stays quiet', () => {
    const { a, b } = announcedAndHeld();
    deliver(a, b.firstValues(3, 1_200), 1_200);
    deliver(b, a.stopped(3, CUTS, true, 1_400), 1_400);
    // Later c takes the partition from b: a still keeps its cuts, but the READY is b's to answer.
    const c = new HandoverAgreement('c', TIMEOUTS);
    const announcement = b.revoked([3], 20_000);
    deliver(a, announcement, 20_000);
    deliver(c, announcement, 20_000);
    c.assigned([3]);
    c.caughtUp(3, 20_100);
    const ready = c.firstValues(3, 20_300);
    assert.deepEqual(deliver(a, ready, 20_300), []);
    assert.deepEqual(deliver(b, ready, 20_300), [{ type: 'stop', partition: 3 }]);
  });
});

describe("applying the old owner's cut to held updates", () => {
  const ts = (update: { ns: bigint }): bigint => update.ns;
  const held = [{ ns: 90n }, { ns: 100n }, { ns: 110n }, { ns: 120n }];

  it('drops what the old owner forwarded (at or before the cut) and keeps the rest', () => {
    assert.deepEqual(applyCut(held, ts, 100n), {
      forward: [{ ns: 110n }, { ns: 120n }],
      dropped: 2,
      gapPossible: false,
    });
  });

  it('forwards everything without a cut', () => {
    assert.deepEqual(applyCut(held, ts, undefined), { forward: held, dropped: 0, gapPossible: false });
  });

  it('flags a possible gap when the old owner stopped before the first held update', () => {
    assert.deepEqual(applyCut(held, ts, 50n), { forward: held, dropped: 0, gapPossible: true });
    assert.deepEqual(applyCut([], ts, 50n), { forward: [], dropped: 0, gapPossible: false });
  });
});
