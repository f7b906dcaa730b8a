import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeProvider } from '../../../src/epics/fake/provider.js';
import { PER_STREAM_LINES } from '../../../src/forwarding/command-feedback.js';
import { Forwarder } from '../../../src/forwarding/forwarder.js';
import type { Logger } from '../../../src/logging/logger.js';
import { type Fc00Stream, Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: string): void => {
      lines.push(`${level} ${message}`);
    };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const stream = (channel: string, topic = 'data', periodic = 0): Fc00Stream => ({
  channel,
  schema: 'f144',
  topic,
  protocol: Protocol.FAKE,
  periodic,
});

/** How the log names a fake f144 stream. */
const described = (pv: string): string => `name='${pv}', protocol=FAKE, topic='data', schema='f144'`;

const fakes = (count: number, prefix = 'FAKE:'): Fc00Stream[] =>
  Array.from({ length: count }, (_, index) => stream(`${prefix}${index}`));

function setUp(): { subject: Forwarder; logger: ReturnType<typeof recordingLogger>; send: typeof send } {
  const logger = recordingLogger();
  const subject = new Forwarder({
    sink: { send: () => undefined },
    logger,
    providerFactory: () => new FakeProvider({ periodMs: 60_000 }),
  });
  return { subject, logger, send };
  function send(configChange: UpdateType, streams: Fc00Stream[]): string[] {
    logger.lines.length = 0;
    assert.equal(subject.applyMessage(serialiseFc00({ configChange, streams })), true);
    return [...logger.lines];
  }
}

describe('Forwarder: what each command did, in the log', () => {
  it('ADD: new and already present, with a line per stream for a small command', async () => {
    const { subject, send } = setUp();
    assert.deepEqual(send(UpdateType.ADD, [stream('A'), stream('B')]), [
      'info ADD of 2 streams from config message: 2 new, 0 already present; 2 streams now',
      `info Subscribed to ${described('A')}`,
      `info Subscribed to ${described('B')}`,
    ]);
    assert.deepEqual(send(UpdateType.ADD, [stream('A'), stream('B', 'data', 1), stream('C')]), [
      'info ADD of 3 streams from config message: 1 new, 1 already present, 1 with periodic changed; 3 streams now',
      `info Subscribed to ${described('C')}`,
      `info Stream ${described('B')} is now periodic`,
      `info Already forwarding an identical stream: ${described('A')}`,
    ]);
    await subject.stop();
  });

  it('REMOVE: how many matched, and a warning when none did', async () => {
    const { subject, send } = setUp();
    send(UpdateType.ADD, [stream('SIM:A'), stream('SIM:B'), stream('OTHER')]);
    assert.deepEqual(send(UpdateType.REMOVE, [stream('SIM:*')]), [
      'info REMOVE from config message matched 2 streams; 1 stream now',
      `info Unsubscribed from ${described('SIM:A')}`,
      `info Unsubscribed from ${described('SIM:B')}`,
    ]);
    assert.deepEqual(send(UpdateType.REMOVE, [stream('SIM:TYPO'), stream('OTHER', 'elsewhere')]), [
      'warn REMOVE from config message matched no stream (SIM:TYPO on data (f144), OTHER on elsewhere (f144)); 1 stream now',
    ]);
    assert.deepEqual(send(UpdateType.REMOVEALL, []), [
      'info REMOVEALL from config message removed 1 stream; 0 streams now',
      `info Unsubscribed from ${described('OTHER')}`,
    ]);
    await subject.stop();
  });

  it('REPLACE: kept, added and removed, without calling the kept streams duplicates', async () => {
    const { subject, send } = setUp();
    send(UpdateType.ADD, [stream('A'), stream('B')]);
    assert.deepEqual(send(UpdateType.REPLACE, [stream('B'), stream('C')]), [
      'info REPLACE from config message: kept 1, added 1, removed 1; 2 streams now',
      `info Unsubscribed from ${described('A')}`,
      `info Subscribed to ${described('C')}`,
    ]);
    await subject.stop();
  });

  it('summarises a large command in one line at info, the streams at debug', async () => {
    const { subject, send } = setUp();
    const lines = send(UpdateType.ADD, fakes(2_000));
    assert.deepEqual(
      lines.filter((line) => !line.startsWith('debug')),
      ['info ADD of 2000 streams from config message: 2000 new, 0 already present; 2000 streams now'],
    );
    assert.equal(lines.filter((line) => line.startsWith('debug Subscribed to')).length, 2_000);
    const small = send(UpdateType.ADD, fakes(PER_STREAM_LINES, 'SMALL:'));
    assert.equal(small.filter((line) => line.startsWith('info Subscribed to')).length, PER_STREAM_LINES);
    await subject.stop();
  });
});
