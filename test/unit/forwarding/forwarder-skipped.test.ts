import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeProvider } from '../../../src/epics/fake/provider.js';
import { Forwarder, MAX_SKIPPED_LOGGED } from '../../../src/forwarding/forwarder.js';
import type { Logger } from '../../../src/logging/logger.js';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  return { warnings, warn: (message) => warnings.push(message), error: ignore, info: ignore, debug: ignore };
}

function forwarder(logger: Logger): Forwarder {
  return new Forwarder({
    sink: { send: () => undefined },
    logger,
    providerFactory: () => new FakeProvider({ periodMs: 1_000 }),
  });
}

const badStreams = (count: number): Parameters<typeof serialiseFc00>[0]['streams'] =>
  Array.from({ length: count }, (_, i) => ({
    channel: `pv:${i}`,
    schema: 'f144',
    topic: 'topic',
    protocol: 99 as Protocol,
    periodic: 0,
  }));

describe('Forwarder: invalid streams in a config message', () => {
  it('logs each invalid stream of a small message', () => {
    const logger = recordingLogger();
    const subject = forwarder(logger);
    assert.equal(
      subject.applyMessage(serialiseFc00({ configChange: UpdateType.ADD, streams: badStreams(3) })),
      false,
    );
    assert.deepEqual(
      logger.warnings.map((line) => line.replace(/stream name='(pv:\d)'.*/, '$1')),
      [
        'Skipping pv:0',
        'Skipping pv:1',
        'Skipping pv:2',
        'Ignoring config message: ADD does not contain valid details of streams',
      ],
    );
    assert.deepEqual(subject.commandCounts, { accepted: 0, rejected: 1, skippedStreams: 3 });
  });

  it('lists the first ones of a huge message, then one line for the rest, and counts them all', async () => {
    const logger = recordingLogger();
    const subject = forwarder(logger);
    const streams = [
      ...badStreams(5_000),
      { channel: 'good', schema: 'f144', topic: 'topic', protocol: Protocol.FAKE, periodic: 0 },
    ];
    assert.equal(subject.applyMessage(serialiseFc00({ configChange: UpdateType.ADD, streams })), true);
    assert.equal(logger.warnings.length, MAX_SKIPPED_LOGGED + 1);
    assert.equal(
      logger.warnings.at(-1),
      `Skipping ${5_000 - MAX_SKIPPED_LOGGED} more invalid streams in config message (not listed)`,
    );
    assert.deepEqual(subject.commandCounts, { accepted: 1, rejected: 0, skippedStreams: 5_000 });
    assert.deepEqual(
      subject.streams().map((stream) => stream.pvName),
      ['good'],
    );
    await subject.stop();
  });
});
