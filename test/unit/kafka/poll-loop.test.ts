import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RdKafka } from '@confluentinc/kafka-javascript';
import { PollLoop, type PolledConsumer } from '../../../src/kafka/poll-loop.js';

type Poll = RdKafka.LibrdKafkaError | RdKafka.Message[];

function kafkaError(message: string, code: number): RdKafka.LibrdKafkaError {
  return Object.assign(new Error(message), { code, errno: code, origin: 'kafka' }) as RdKafka.LibrdKafkaError;
}

function message(offset: number): RdKafka.Message {
  return { value: Buffer.from(String(offset)), offset, partition: 0, topic: 't', size: 1 };
}

/** A consumer whose polls answer, one by one, with what `script` says; nothing once it runs out. */
class ScriptedConsumer implements PolledConsumer {
  timeoutMs: number | undefined;
  readonly counts: number[] = [];
  /** Set to hold the next poll's answer until released. */
  held: (() => void) | undefined;
  holdNext = false;

  constructor(private readonly script: Poll[]) {}

  setDefaultConsumeTimeout(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
  }

  consume(
    count: number,
    callback: (error: RdKafka.LibrdKafkaError, messages: RdKafka.Message[]) => void,
  ): void {
    this.counts.push(count);
    const answer = this.script.shift() ?? [];
    const reply = (): void => {
      if (Array.isArray(answer)) callback(null as unknown as RdKafka.LibrdKafkaError, answer);
      else callback(answer, []);
    };
    if (this.holdNext) {
      this.holdNext = false;
      this.held = reply;
    } else setImmediate(reply);
  }
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(1);
  }
}

/** A loop over `consumer` that records the offsets handed over and ignores errors. */
function recordingLoop(
  consumer: ScriptedConsumer,
  options: { intervalMs: number; batch?: number },
): { loop: PollLoop; received: number[] } {
  const received: number[] = [];
  const loop = new PollLoop(
    consumer,
    (entry) => received.push(entry.offset),
    () => undefined,
    options,
  );
  return { loop, received };
}

describe('PollLoop', () => {
  it('polls without waiting, hands messages over in order, and goes on polling after errors', async () => {
    const consumer = new ScriptedConsumer([
      [message(0), message(1)],
      kafkaError('Broker: Coordinator load in progress', 14),
      [],
      kafkaError('Local: Offset reset', -140),
      [message(2)],
    ]);
    const received: number[] = [];
    const errors: string[] = [];
    const loop = new PollLoop(
      consumer,
      (entry) => received.push(entry.offset),
      (error) => errors.push(error.message),
      { intervalMs: 1 },
    );
    loop.start();
    await until(() => received.length === 3);
    await loop.stop();
    assert.equal(consumer.timeoutMs, 0);
    assert.deepEqual(received, [0, 1, 2]);
    assert.deepEqual(errors, ['Broker: Coordinator load in progress', 'Local: Offset reset']);
  });

  it('polls again at once after a full batch, and waits the interval after a short one', async () => {
    const full = [message(0), message(1)];
    const consumer = new ScriptedConsumer([full, [message(2)], [message(3)]]);
    const { loop, received } = recordingLoop(consumer, { intervalMs: 10_000, batch: 2 });
    loop.start();
    await until(() => received.length === 3);
    await sleep(50);
    assert.deepEqual(received, [0, 1, 2], 'the third poll waits for the interval');
    assert.deepEqual(consumer.counts, [2, 2]);
    await loop.stop();
  });

  it('stop() waits for the poll under way, and nothing is handed over or polled after it', async () => {
    const consumer = new ScriptedConsumer([[message(0)]]);
    consumer.holdNext = true;
    const { loop, received } = recordingLoop(consumer, { intervalMs: 1 });
    loop.start();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await sleep(5);
    assert.equal(stopped, false, 'still waiting for the poll under way');
    consumer.held?.();
    await stopping;
    await sleep(5);
    assert.deepEqual(received, []);
    assert.equal(consumer.counts.length, 1);
  });
});
