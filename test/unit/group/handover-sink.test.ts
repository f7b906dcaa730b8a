import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageSink } from '../../../src/forwarding/sink.js';
import { HandoverSink } from '../../../src/group/handover-sink.js';
import { pvPartition } from '../../../src/group/partition.js';
import { deserialiseAd00, serialiseAd00 } from '../../../src/schemas/index.js';

const PARTITIONS = 8;

/** A message whose FlatBuffers file identifier is `schema`, carrying `tag` so that tests can tell them apart. */
function payload(schema: string, tag: number): Uint8Array {
  return Uint8Array.from([tag, 0, 0, 0, ...Buffer.from(schema)]);
}

class Recorder implements MessageSink {
  readonly sent: { pv: string; tag: number; timestampMs: number }[] = [];
  send(_topic: string, key: Buffer | null, data: Uint8Array, timestampMs: number): void {
    this.sent.push({ pv: key?.toString() ?? '', tag: data[0] ?? -1, timestampMs });
  }
}

/** Two PV names on different partitions. */
const [PV_A, PV_B] = (() => {
  const names = Array.from({ length: 50 }, (_, i) => `PV:${i}`);
  const a = names[0] as string;
  const b = names.find((name) => pvPartition(name, PARTITIONS) !== pvPartition(a, PARTITIONS)) as string;
  return [a, b];
})();
const partitionA = pvPartition(PV_A, PARTITIONS);

function setUp(): { recorder: Recorder; sink: HandoverSink; keyA: Buffer; keyB: Buffer } {
  const recorder = new Recorder();
  const sink = new HandoverSink(recorder);
  sink.partitionCount = PARTITIONS;
  return { recorder, sink, keyA: Buffer.from(PV_A), keyB: Buffer.from(PV_B) };
}

describe('the hand-over sink', () => {
  it('forwards at once, and cuts at the last value of each PV, not at connection or alarm messages', () => {
    const { recorder, sink, keyA, keyB } = setUp();
    sink.send('data', keyA, payload('f144', 1), 100);
    sink.send('data', keyA, payload('al00', 2), 100);
    sink.send('data', keyA, payload('f144', 3), 200);
    sink.send('data', keyA, payload('ep01', 4), 900);
    sink.send('data', keyA, payload('al00', 6), 950);
    sink.send('data', keyB, payload('f144', 5), 300);
    assert.equal(recorder.sent.length, 6);
    assert.deepEqual(sink.takeCuts(partitionA), new Map([[PV_A, 200_000_000n]]));
    assert.deepEqual(sink.takeCuts(partitionA), new Map(), 'taken once');
  });

  it('holds a partition taken over, and forwards after the cuts on release', () => {
    const { recorder, sink, keyA, keyB } = setUp();
    sink.hold(partitionA);
    sink.send('data', keyA, payload('ep01', 1), 50);
    sink.send('data', keyA, payload('al00', 6), 60);
    assert.equal(sink.hasValue(PV_A), false, 'connection and alarm messages are no values');
    sink.send('data', keyA, payload('f144', 2), 100);
    sink.send('data', keyA, payload('f144', 3), 200);
    sink.send('data', keyB, payload('f144', 4), 150);
    assert.equal(sink.hasValue(PV_A), true);
    assert.equal(sink.hasValue('PV:other'), false);
    assert.deepEqual(
      recorder.sent.map((sent) => sent.tag),
      [4],
      "only the other partition's message went out",
    );

    const result = sink.release(partitionA, new Map([[PV_A, 100_000_000n]]));
    assert.deepEqual(result, { forwarded: 1, dropped: 3, gapsPossible: 0 });
    sink.send('data', keyA, payload('f144', 5), 300);
    assert.deepEqual(
      recorder.sent.map((sent) => sent.tag),
      [4, 3, 5],
    );
    assert.deepEqual(sink.takeCuts(partitionA), new Map([[PV_A, 300_000_000n]]));
  });

  it('keeps a held image frame whole while later frames are built in the same buffer', () => {
    const forwarded: Uint8Array[] = [];
    const sink = new HandoverSink({ send: (_topic, _key, data) => forwarded.push(new Uint8Array(data)) });
    sink.partitionCount = PARTITIONS;
    sink.hold(partitionA);
    const frame = (uniqueId: number) =>
      serialiseAd00(
        {
          sourceName: PV_A,
          uniqueId,
          timestampNs: BigInt(uniqueId) * 1_000_000n,
          dimensions: BigInt64Array.of(2n),
          dataType: 0,
          data: Uint8Array.of(uniqueId, uniqueId),
          attributes: [],
        },
        'reused',
      );
    sink.send('data', Buffer.from(PV_A), frame(1), 1);
    frame(2);
    sink.release(partitionA, undefined);
    assert.deepEqual(
      forwarded.map((bytes) => deserialiseAd00(bytes).uniqueId),
      [1],
    );
  });

  it('forwards everything held without cuts, and counts a possible gap when the old owner stopped early', () => {
    const { recorder, sink, keyA } = setUp();
    sink.hold(partitionA);
    sink.send('data', keyA, payload('f144', 1), 100);
    assert.deepEqual(sink.release(partitionA, undefined), { forwarded: 1, dropped: 0, gapsPossible: 0 });
    sink.hold(partitionA);
    sink.send('data', keyA, payload('f144', 2), 500);
    assert.deepEqual(sink.release(partitionA, new Map([[PV_A, 200_000_000n]])), {
      forwarded: 1,
      dropped: 0,
      gapsPossible: 1,
    });
    assert.deepEqual(
      recorder.sent.map((sent) => sent.tag),
      [1, 2],
    );
  });
});
