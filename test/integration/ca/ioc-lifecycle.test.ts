/**
 * Connection lifecycle against a real IOC: a PV that appears after the subscription, and an IOC killed and
 * restarted, with no action by the caller.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaClient } from '../../../src/epics/ca/client.js';
import { Recorder, RecordingLogger } from '../../support/ca-recorder.js';
import { TestIoc } from '../../support/ioc.js';

describe('CA connection lifecycle', { timeout: 58_000 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('connects a PV that appears 5 s after the subscription', async () => {
    const ioc = await TestIoc.start();
    cleanup.push(() => ioc.stop());
    await ioc.stop();
    const client = new CaClient({ env: ioc.clientEnv, logger: new RecordingLogger() });
    cleanup.push(() => client.close());
    const recorder = new Recorder();
    client.subscribe(ioc.pv('ao'), recorder);
    await sleep(5000);
    assert.equal(recorder.updates.length, 0);
    assert.deepEqual(recorder.states, [], 'no event while the PV has never been seen');
    const appearedAt = Date.now();
    await ioc.start();
    const update = await recorder.update(1, 15_000);
    assert.deepEqual(recorder.states, ['connected']);
    assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: 1.5 });
    assert.ok(Date.now() - appearedAt < 15_000);
  });

  it('resumes updates after the IOC is killed and restarted, and says what happened', async () => {
    const ioc = await TestIoc.start();
    cleanup.push(() => ioc.stop());
    const logger = new RecordingLogger();
    const client = new CaClient({ env: ioc.clientEnv, logger });
    cleanup.push(() => client.close());
    const tick = new Recorder();
    const ao = new Recorder();
    client.subscribe(ioc.pv('tick'), tick);
    client.subscribe(ioc.pv('ao'), ao);
    await tick.update(3);
    await ao.update(1);

    await ioc.kill();
    await tick.waitFor(() => tick.states.includes('disconnected'), 10_000, 'disconnected');
    await ao.waitFor(() => ao.states.includes('disconnected'), 10_000, 'disconnected');
    const disconnected = tick.events.find((event) => event.state === 'disconnected');
    assert.ok(disconnected?.detail, 'the disconnection says why');
    const beforeRestart = tick.updates.length;

    await ioc.start();
    await tick.waitFor(
      () => tick.states.filter((state) => state === 'connected').length === 2,
      20_000,
      'reconnect',
    );
    await tick.update(beforeRestart + 2, 10_000);
    await ao.waitFor(() => ao.updates.length >= 2, 10_000, 'ao after restart');
    assert.deepEqual(tick.states, ['connected', 'disconnected', 'connected']);
    assert.deepEqual(ao.states, ['connected', 'disconnected', 'connected']);
    // After a restart the IOC's values start afresh: the first update after the reconnection is new.
    const afterRestart = tick.updates[beforeRestart];
    const lastBefore = tick.updates[beforeRestart - 1];
    assert.ok(afterRestart && lastBefore && afterRestart.timestampNs > lastBefore.timestampNs);
    assert.equal(client.counters.protocolErrors, 0);
    // No caRepeater runs here: the client runs one in process, so the restarted IOC's beacons reach it.
    assert.ok(client.receivesBeacons);
    assert.ok(client.counters.beaconAnomalies >= 1);
    assert.ok(client.counters.circuitsClosed >= 1);
    // The log: where the client searches, the server going away and coming back, with its channels.
    const lines = logger.entries.map((entry) => ({ ...entry, meta: entry.meta ?? {} }));
    assert.ok(
      lines.some(
        (line) =>
          line.level === 'info' && /^CA searches 127\.0\.0\.1:\d+ .*name servers: none$/.test(line.message),
      ),
      'the search destinations at start',
    );
    const closed = lines.find((line) => line.message === 'CA circuit closed');
    assert.equal(closed?.level, 'warn');
    assert.equal(closed?.meta['channels'], 2);
    const back = lines.find((line) =>
      /^CA server 127\.0\.0\.1:\d+ is back; its channels reconnect$/.test(line.message),
    );
    assert.equal(back?.level, 'info');
    assert.equal(back?.meta['channels'], 2);
  });
});
