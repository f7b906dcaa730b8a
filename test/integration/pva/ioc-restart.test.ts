/**
 * Connection life against a real IOC: PVs that appear after the subscription, an IOC killed and restarted on
 * the same ports (updates resume by themselves), and a clean stop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PvaClient } from '../../../src/epics/pva/client.js';
import { TestIoc } from '../../support/ioc.js';
import { RecordingLogger } from '../../support/ca-recorder.js';
import { UpdateRecorder } from '../../support/pva-recorder.js';

describe('PVA client across IOC starts, kills and restarts', { timeout: 60_000 }, () => {
  let ioc: TestIoc;
  let client: PvaClient;
  const tick = new UpdateRecorder();
  const ao = new UpdateRecorder();
  const logger = new RecordingLogger();

  before(async () => {
    ioc = await TestIoc.start();
    await ioc.stop();
    client = new PvaClient({ env: ioc.clientEnv, logger });
  });

  after(async () => {
    await client.close();
    await ioc.stop();
  });

  it('connects PVs that appear only after they were subscribed', async () => {
    client.subscribe(ioc.pv('tick'), tick);
    client.subscribe(ioc.pv('ao'), ao);
    await new Promise((resolveLater) => setTimeout(resolveLater, 1500));
    assert.deepEqual(tick.sequence, [], 'nothing while the IOC is down');
    await ioc.start();
    await tick.waitFor(() => tick.updates.length >= 3, 'tick updates after the IOC started', 15_000);
    await ao.waitFor(() => ao.updates.length >= 1, 'ao after the IOC started', 5_000);
    assert.deepEqual(tick.sequence.slice(0, 2), ['connected', 'update']);
    assert.deepEqual(ao.last?.value, { kind: 'scalar', type: 'float64', value: 1.5 });
  });

  it('reports the loss of a killed IOC and resumes updates when it is back', async () => {
    await ioc.kill();
    await tick.waitFor(() => tick.states.at(-1) === 'disconnected', 'disconnected after the kill', 5_000);
    const updatesBefore = tick.updates.length;
    await ioc.start();
    await tick.waitFor(() => tick.updates.length >= updatesBefore + 3, 'updates after the restart', 20_000);
    await ao.waitFor(
      () => ao.states.join(',') === 'connected,disconnected,connected',
      'ao reconnected',
      5_000,
    );
    // connected → value, never a stale value after a reconnect.
    const afterLoss = tick.sequence.slice(tick.sequence.indexOf('disconnected'));
    assert.deepEqual(afterLoss.slice(0, 3), ['disconnected', 'connected', 'update']);
    assert.equal(ao.updates.length, 2, 'ao delivered once per connection');
    assert.equal(client.counters.protocolErrors, 0);
    // The log: where the client searches, the server going away and coming back, with its channels.
    assert.ok(
      logger.entries.some(
        (entry) =>
          entry.level === 'info' &&
          /^PVA searches .*127\.0\.0\.1:\d+.*; name servers: none$/.test(entry.message),
      ),
      'the search destinations at start',
    );
    const lost = logger.entries.find((entry) => /^PVA server \S+ disconnected: /.test(entry.message));
    assert.equal(lost?.level, 'warn');
    assert.equal(lost?.meta?.['channels'], 2);
    const back = logger.entries.find((entry) =>
      /^PVA server \S+ is back; its channels reconnect$/.test(entry.message),
    );
    assert.equal(back?.level, 'info');
    assert.equal(back?.meta?.['channels'], 2);
  });

  it('handles a clean IOC stop the same way', async () => {
    await ioc.stop();
    await ao.waitFor(() => ao.states.at(-1) === 'disconnected', 'disconnected after the stop', 5_000);
    await ioc.start();
    await ao.waitFor(
      () => ao.states.at(-1) === 'connected' && ao.updates.length === 3,
      'reconnected',
      20_000,
    );
    assert.equal(client.connectedChannelCount, 2);
  });
});
