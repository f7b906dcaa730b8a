import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckTracker } from '../../../src/spool/acks.js';
import type { TopicMessages } from '../../../src/kafka/producer-statistics.js';

/**
 * A statistics reading of one topic: per partition [produced, held], and librdkafka's count of all it holds
 * (`elsewhere` more than the partitions show).
 */
function topic(
  partitions: readonly (readonly [number, number])[],
  elsewhere = 0,
): [Map<string, TopicMessages>, number] {
  const held = partitions.reduce((sum, [, each]) => sum + each, 0);
  const topics = new Map([
    [
      'data',
      {
        partitionCount: partitions.length,
        partitions: new Map(partitions.map(([produced, each], id) => [id, { produced, held: each }])),
      },
    ],
  ]);
  return [topics, held + elsewhere];
}

describe('acknowledgements from statistics', () => {
  it('counts a partition’s records done in order, by segment', () => {
    const acks = new AckTracker();
    acks.onStatistics(...topic([[0, 0]]));
    for (let i = 0; i < 5; i++) acks.handedOver('data', i, 1);
    for (let i = 0; i < 3; i++) acks.handedOver('data', i, 2);
    assert.deepEqual([...acks.onStatistics(...topic([[8, 6]]))], [[1, 2]]);
    assert.deepEqual(
      [...acks.onStatistics(...topic([[8, 1]]))],
      [
        [1, 3],
        [2, 2],
      ],
    );
    assert.deepEqual([...acks.onStatistics(...topic([[8, 1]]))], []);
  });

  it('follows each partition on its own (CRC-32 of the key modulo the count): a stalled one holds its records', () => {
    const acks = new AckTracker();
    acks.onStatistics(
      ...topic([
        [0, 0],
        [0, 0],
      ]),
    );
    // Hashes 0 and 2 go to partition 0, 1 and 3 to partition 1.
    for (const hash of [0, 1, 2, 3]) acks.handedOver('data', hash, 7);
    assert.deepEqual(
      [
        ...acks.onStatistics(
          ...topic([
            [2, 0],
            [2, 2],
          ]),
        ),
      ],
      [[7, 2]],
    );
  });

  it('counts messages held outside the partitions (a request to retry) against every partition', () => {
    const acks = new AckTracker();
    acks.onStatistics(
      ...topic([
        [0, 0],
        [0, 0],
      ]),
    );
    for (const hash of [0, 1, 2, 3, 0, 1]) acks.handedOver('data', hash, 3);
    // 3 in partition 0 and 3 in partition 1, of which 1 and 2 wait for a retry, not in the partitions' counts.
    assert.deepEqual(
      [
        ...acks.onStatistics(
          ...topic(
            [
              [3, 0],
              [3, 0],
            ],
            3,
          ),
        ),
      ],
      [],
    );
    assert.deepEqual(
      [
        ...acks.onStatistics(
          ...topic(
            [
              [3, 0],
              [3, 1],
            ],
            0,
          ),
        ),
      ],
      [[3, 5]],
    );
  });

  it('keeps records of a topic whose partition count is not known yet until it is', () => {
    const acks = new AckTracker();
    acks.handedOver('data', 5, 1);
    acks.handedOver('data', 6, 1);
    assert.equal(acks.partitionCount('data'), undefined);
    assert.deepEqual([...acks.onStatistics(...topic([[2, 0]]))], [[1, 2]]);
    assert.equal(acks.partitionCount('data'), 1);
  });

  it('counts statistics that say more was done than was handed over', () => {
    const acks = new AckTracker();
    acks.onStatistics(...topic([[0, 0]]));
    acks.handedOver('data', 0, 1);
    acks.onStatistics(...topic([[3, 0]]));
    assert.equal(acks.mismatches, 1);
  });

  it('lets a restart skip exactly the records done before, per segment and partition', () => {
    const first = new AckTracker();
    first.onStatistics(
      ...topic([
        [0, 0],
        [0, 0],
      ]),
    );
    for (const hash of [0, 1, 2, 3]) first.handedOver('data', hash, 4);
    first.onStatistics(
      ...topic([
        [2, 1],
        [2, 2],
      ]),
    );
    const restarted = new AckTracker();
    restarted.restore({
      done: first.doneRecords(),
      handed: first.handedRecords(),
      partitionCounts: first.knownPartitionCounts(),
    });
    const skipped = [0, 1, 2, 3].map((hash) => restarted.doneBefore('data', hash, 4));
    assert.deepEqual(skipped, [true, false, false, false]);
    assert.deepEqual(restarted.doneRecords(), first.doneRecords(), 'what was done stays recorded');
    // Partition 0 had two handed over and one done, partition 1 two handed over and none done.
    assert.deepEqual(
      [...(restarted.inDoubt().get(4) ?? [])],
      [
        ['data\u00000', 1],
        ['data\u00001', 2],
      ],
    );
  });

  it('counts everything handed over as done after a flush', () => {
    const acks = new AckTracker();
    acks.onStatistics(...topic([[0, 0]]));
    acks.handedOver('data', 0, 1);
    acks.handedOver('data', 0, 2);
    acks.handedOver('other', 9, 2);
    assert.deepEqual(
      [...acks.allDone()].sort(([a], [b]) => a - b),
      [
        [1, 1],
        [2, 2],
      ],
    );
  });
});
