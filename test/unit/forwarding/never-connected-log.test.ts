import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamStatus } from '../../../src/forwarding/forwarder.js';
import { NeverConnectedLog, neverConnectedLine } from '../../../src/forwarding/never-connected-log.js';
import { newStreamCounters } from '../../../src/forwarding/pipeline.js';
import type { Logger } from '../../../src/logging/logger.js';
import type { StreamSpec } from '../../../src/model/stream.js';

function status(
  pvName: string,
  protocol: StreamSpec['protocol'],
  connected: boolean,
  topic = 'data',
): StreamStatus {
  const counters = newStreamCounters();
  if (connected) counters.connection = 'connected';
  return { spec: { pvName, protocol, topic, schema: 'f144', periodic: false }, counters };
}

describe('the periodic line of PVs never connected', () => {
  it('names the PVs that never connected, each once, counted by protocol', () => {
    assert.equal(neverConnectedLine([status('A', 'ca', true)]), undefined);
    assert.equal(
      neverConnectedLine([
        status('A', 'ca', true),
        status('TYPO', 'ca', false),
        status('TYPO', 'ca', false, 'other'),
        status('GONE', 'pva', false),
      ]),
      '2 PVs have never connected (ca 1, pva 1): TYPO, GONE',
    );
  });

  it('lists ten and counts the rest: one line for 1,000 missing PVs', () => {
    const missing = Array.from({ length: 1_000 }, (_, index) => status(`MISSING:${index}`, 'ca', false));
    const line = neverConnectedLine(missing) ?? '';
    assert.match(line, /^1000 PVs have never connected \(ca 1000\): MISSING:0, .*, MISSING:9 and 990 more$/);
  });

  it('logs the line as a warning, first after a delay, then every period, until stopped', async () => {
    const warnings: string[] = [];
    const ignore = (): void => undefined;
    const logger: Logger = {
      warn: (line) => warnings.push(line),
      error: ignore,
      info: ignore,
      debug: ignore,
    };
    const statuses = [status('LATE', 'ca', false)];
    const log = new NeverConnectedLog(() => statuses, logger, 20, 30);
    log.start();
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    statuses[0] = status('LATE', 'ca', true);
    const seen = warnings.length;
    await new Promise((resolveWait) => setTimeout(resolveWait, 80));
    log.stop();
    assert.ok(seen >= 2, `${seen} lines in 100 ms`);
    assert.ok(warnings.every((line) => line === '1 PV has never connected (ca 1): LATE'));
    assert.equal(warnings.length, seen, 'nothing once it connected');
  });
});
