import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type FrameHandler, MessageFramer } from '../../../src/epics/pva/framer.js';
import { beginMessage, endMessage, encodeControl } from '../../../src/epics/pva/header.js';
import { Command, ControlCommand, HeaderFlag } from '../../../src/epics/pva/protocol.js';
import { PvaProtocolError, WireWriter } from '../../../src/epics/pva/wire.js';

interface Seen {
  kind: 'control' | 'message';
  command: number;
  littleEndian: boolean;
  payload?: string;
  value?: number;
}

function recorder(): { handler: FrameHandler; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    handler: {
      onControl: (command, value, littleEndian) =>
        seen.push({ kind: 'control', command, value, littleEndian }),
      onMessage: (command, littleEndian, bytes, start, end) =>
        seen.push({ kind: 'message', command, littleEndian, payload: bytes.toString('hex', start, end) }),
    },
  };
}

function message(command: number, payload: Buffer, littleEndian = true, segment = 0): Buffer {
  const writer = new WireWriter(littleEndian);
  const start = beginMessage(writer, command, true, segment);
  writer.bytes(payload);
  endMessage(writer, start);
  return writer.take();
}

function control(command: number, value: number, littleEndian = true): Buffer {
  const writer = new WireWriter(littleEndian);
  encodeControl(writer, command, value, true);
  return writer.take();
}

describe('message framing', () => {
  it('hands on complete messages in each one’s byte order, and control messages with their value', () => {
    const { handler, seen } = recorder();
    const framer = new MessageFramer(handler, true);
    framer.push(
      Buffer.concat([
        control(ControlCommand.setByteOrder, 0, false),
        message(Command.echo, Buffer.from('abc'), false),
        message(Command.echo, Buffer.from('de'), true),
      ]),
    );
    assert.deepEqual(seen, [
      { kind: 'control', command: ControlCommand.setByteOrder, value: 0, littleEndian: false },
      { kind: 'message', command: Command.echo, littleEndian: false, payload: '616263' },
      { kind: 'message', command: Command.echo, littleEndian: true, payload: '6465' },
    ]);
  });

  it('gives the same messages for any split of the stream', () => {
    const stream = Buffer.concat([
      message(Command.echo, Buffer.alloc(300, 1)),
      control(ControlCommand.setByteOrder, 0),
      message(Command.monitor, Buffer.alloc(70_000, 2)),
      message(Command.echo, Buffer.alloc(0)),
    ]);
    const whole = recorder();
    new MessageFramer(whole.handler, true).push(stream);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20_000 }), { maxLength: 30 }), (sizes) => {
        const split = recorder();
        const framer = new MessageFramer(split.handler, true);
        let offset = 0;
        for (const size of sizes) {
          framer.push(stream.subarray(offset, offset + size));
          offset += size;
        }
        framer.push(stream.subarray(offset));
        assert.deepEqual(split.seen, whole.seen);
        assert.equal(framer.bufferedBytes, 0);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps nothing of a chunk after push: the caller may reuse its buffer, as the transport does', () => {
    const stream = Buffer.concat([
      message(Command.echo, Buffer.alloc(300, 1)),
      message(Command.monitor, Buffer.alloc(20_000, 2), true, HeaderFlag.segmentFirst),
      control(ControlCommand.setByteOrder, 0),
      message(Command.monitor, Buffer.alloc(9_000, 3), true, HeaderFlag.segmentLast),
      message(Command.monitor, Buffer.alloc(70_000, 4)),
      message(Command.echo, Buffer.alloc(0)),
    ]);
    const whole = recorder();
    new MessageFramer(whole.handler, true).push(stream);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20_000 }), { maxLength: 30 }), (sizes) => {
        const reused = Buffer.alloc(stream.length);
        const seen: Seen[] = [];
        const kept: { bytes: Buffer; start: number; end: number; index: number }[] = [];
        const framer = new MessageFramer(
          {
            onControl: (command, value, littleEndian) =>
              seen.push({ kind: 'control', command, value, littleEndian }),
            onMessage: (command, littleEndian, bytes, start, end, _version, retainable) => {
              const payload = bytes.toString('hex', start, end);
              if (retainable) kept.push({ bytes, start, end, index: seen.length });
              seen.push({ kind: 'message', command, littleEndian, payload });
            },
          },
          true,
        );
        const pushFromReused = (from: number, to: number): void => {
          stream.copy(reused, 0, from, to);
          framer.push(reused.subarray(0, to - from));
          reused.fill(0xee);
        };
        let offset = 0;
        for (const size of sizes) {
          const end = Math.min(offset + size, stream.length);
          pushFromReused(offset, end);
          offset = end;
        }
        pushFromReused(offset, stream.length);
        assert.deepEqual(seen, whole.seen);
        // What was handed on as retainable is still intact after every later push.
        for (const { bytes, start, end, index } of kept)
          assert.equal(bytes.toString('hex', start, end), seen[index]?.payload);
        assert.equal(framer.bufferedBytes, 0);
      }),
      { numRuns: 50 },
    );
  });

  it('reassembles segments (first, middle, last) with control messages in between', () => {
    const { handler, seen } = recorder();
    const framer = new MessageFramer(handler, true);
    framer.push(
      Buffer.concat([
        message(Command.monitor, Buffer.from('0102', 'hex'), true, HeaderFlag.segmentFirst),
        control(ControlCommand.markTotalBytesSent, 10),
        message(Command.monitor, Buffer.from('03', 'hex'), true, HeaderFlag.segmentMiddle),
        message(Command.monitor, Buffer.from('0405', 'hex'), true, HeaderFlag.segmentLast),
      ]),
    );
    assert.deepEqual(seen, [
      { kind: 'control', command: ControlCommand.markTotalBytesSent, value: 10, littleEndian: true },
      { kind: 'message', command: Command.monitor, littleEndian: true, payload: '0102030405' },
    ]);
  });

  it('rejects segmentation violations', () => {
    const cases: Buffer[][] = [
      [message(Command.monitor, Buffer.alloc(1), true, HeaderFlag.segmentMiddle)],
      [message(Command.monitor, Buffer.alloc(1), true, HeaderFlag.segmentLast)],
      [
        message(Command.monitor, Buffer.alloc(1), true, HeaderFlag.segmentFirst),
        message(Command.echo, Buffer.alloc(1), true),
      ],
      [
        message(Command.monitor, Buffer.alloc(1), true, HeaderFlag.segmentFirst),
        message(Command.echo, Buffer.alloc(1), true, HeaderFlag.segmentLast),
      ],
      [
        message(Command.monitor, Buffer.alloc(1), true, HeaderFlag.segmentFirst),
        message(Command.monitor, Buffer.alloc(1), true, HeaderFlag.segmentFirst),
      ],
    ];
    for (const messages of cases) {
      const framer = new MessageFramer(recorder().handler, true);
      assert.throws(() => {
        for (const m of messages) framer.push(m);
      }, PvaProtocolError);
    }
  });

  it('rejects a message larger than the limit before buffering it', () => {
    const framer = new MessageFramer(recorder().handler, true, 1000);
    const header = message(Command.monitor, Buffer.alloc(1001)).subarray(0, 8);
    assert.throws(() => framer.push(header), /exceeds the 1000 byte limit/);
  });

  it('copies a straddling message once and parses the rest of the chunk in place', () => {
    const small = message(Command.echo, Buffer.alloc(10, 7));
    const chunkA = Buffer.concat([small, small.subarray(0, 5)]);
    const chunkB = Buffer.concat([small.subarray(5), small, small]);
    const payloads: Buffer[] = [];
    const framer = new MessageFramer(
      { onControl: () => undefined, onMessage: (_c, _le, bytes) => payloads.push(bytes) },
      true,
    );
    framer.push(chunkA);
    framer.push(chunkB);
    // Small Buffers share pooled memory, so "a view of" means: inside the chunk's bytes.
    const inside = (view: Buffer | undefined, chunk: Buffer): boolean =>
      view?.buffer === chunk.buffer &&
      view.byteOffset >= chunk.byteOffset &&
      view.byteOffset < chunk.byteOffset + chunk.length;
    assert.equal(payloads.length, 4);
    assert.ok(inside(payloads[0], chunkA), 'first message parsed in place');
    assert.ok(!inside(payloads[1], chunkA) && !inside(payloads[1], chunkB), 'straddling message copied');
    assert.ok(inside(payloads[2], chunkB), 'then back to parsing in place');
    assert.ok(inside(payloads[3], chunkB));
  });

  it('stops processing once stopped', () => {
    const { handler, seen } = recorder();
    const framer = new MessageFramer(
      {
        ...handler,
        onMessage: (...args) => {
          handler.onMessage(...args);
          framer.stop();
        },
      },
      true,
    );
    framer.push(
      Buffer.concat([message(Command.echo, Buffer.alloc(1)), message(Command.echo, Buffer.alloc(1))]),
    );
    assert.equal(seen.length, 1);
  });
});
