/**
 * Server behaviour a real IOC shows only rarely, reproduced by the fake server: byte-at-a-time delivery,
 * SERVER_DISCONN, refused channels, refused subscriptions (ERROR), cancellation on the wire, an unresponsive
 * server.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaClient } from '../../../src/epics/ca/client.js';
import { Command, EcaStatus } from '../../../src/epics/ca/constants.js';
import { Recorder, RecordingLogger } from '../../support/ca-recorder.js';
import { FakeCaServer, fakeDouble, type FakePv } from '../../support/ca-fake-server.js';

describe('CA client against unusual server behaviour', { timeout: 55_000 }, () => {
  let server: FakeCaServer | undefined;
  let client: CaClient | undefined;

  afterEach(async () => {
    await client?.close();
    await server?.stop();
    client = undefined;
    server = undefined;
  });

  async function setUp(pvs: Record<string, FakePv>, env: Record<string, string> = {}): Promise<CaClient> {
    server = await FakeCaServer.start(pvs);
    client = new CaClient({
      env: { ...server.clientEnv, ...env },
      logger: new RecordingLogger(),
      reconnectSpreadMs: 0,
      searchInitialDelayMs: 20,
    });
    return client;
  }

  it('decodes replies delivered one byte per TCP segment, and a 100,000-element array with a dynamic count', async () => {
    const big: FakePv = {
      nativeType: 6,
      count: 100_000,
      status: 0,
      severity: 0,
      values: Float64Array.from({ length: 100_000 }, (_, i) => i),
      metadata: { units: 'V', precision: 1, limits: {} },
    };
    const ca = await setUp({ SCALAR: fakeDouble(2.5), BIG: big });
    (server as FakeCaServer).byteAtATime = true;
    const scalar = new Recorder();
    ca.subscribe('SCALAR', scalar);
    const update = await scalar.update(1);
    assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: 2.5 });
    assert.deepEqual(update.display, { units: 'mm', precision: 2 });
    (server as FakeCaServer).byteAtATime = false;
    const array = new Recorder();
    ca.subscribe('BIG', array);
    const bigUpdate = await array.update(1);
    assert.deepEqual((bigUpdate.value as { value: Float64Array }).value, big.values);
    const requests = (server as FakeCaServer).requests;
    const add = requests.find(
      (request) => request.command === Command.EVENT_ADD && request.dataType === 20 && request.count === 0,
    );
    assert.ok(add, 'the array is subscribed with a dynamic count');
  });

  it('reconnects a channel the server disconnected, on the same circuit', async () => {
    const ca = await setUp({ PV: fakeDouble(1) });
    const recorder = new Recorder();
    ca.subscribe('PV', recorder);
    await recorder.update(1);
    (server as FakeCaServer).disconnectChannel('PV');
    await recorder.waitFor(() => recorder.states.length === 3, 5000, 'reconnection');
    assert.deepEqual(recorder.states, ['connected', 'disconnected', 'connected']);
    assert.equal((server as FakeCaServer).circuits.size, 1);
    assert.equal(ca.counters.serverDisconnects, 1);
  });

  it('keeps trying a channel the server refused, and connects once it is accepted', async () => {
    const pv = { ...fakeDouble(3), refuse: true };
    const ca = await setUp({ PV: pv });
    const recorder = new Recorder();
    ca.subscribe('PV', recorder);
    await sleep(300);
    assert.ok(ca.counters.channelsCreateFailed >= 1);
    assert.equal(recorder.updates.length, 0);
    pv.refuse = false;
    await recorder.update(1, 5000);
    assert.deepEqual(recorder.states, ['connected']);
  });

  it('reports a refused subscription (ERROR ECA_TOLARGE) as a remote error', async () => {
    const ca = await setUp({ PV: { ...fakeDouble(3), subscriptionError: EcaStatus.TOLARGE } });
    const recorder = new Recorder();
    ca.subscribe('PV', recorder);
    await recorder.waitFor(() => recorder.states.includes('remote_error'), 5000, 'remote_error');
    assert.match(recorder.events[0]?.detail ?? '', /ECA_TOLARGE/);
    assert.equal(recorder.updates.length, 0);
  });

  it('cancels on the wire only when the last subscription of a PV goes', async () => {
    const ca = await setUp({ PV: fakeDouble(4) });
    const first = new Recorder();
    const second = new Recorder();
    const one = ca.subscribe('PV', first);
    const two = ca.subscribe('PV', second);
    await first.update(1);
    await second.update(1);
    assert.equal((server as FakeCaServer).subscriptionCount, 2); // TIME and CTRL, shared
    one.cancel();
    await sleep(50);
    assert.equal((server as FakeCaServer).subscriptionCount, 2);
    (server as FakeCaServer).post('PV');
    await second.update(2);
    assert.equal(first.updates.length, 1);
    two.cancel();
    await sleep(100);
    const requests = (server as FakeCaServer).requests.map((request) => request.command);
    assert.equal(requests.filter((command) => command === Command.EVENT_CANCEL).length, 2);
    assert.ok(requests.includes(Command.CLEAR_CHANNEL));
    assert.equal((server as FakeCaServer).subscriptionCount, 0);
    assert.equal(ca.channelCount, 0);
  });

  it('reports an unresponsive server as disconnected, and connected again when it answers', async () => {
    const ca = await setUp({ PV: fakeDouble(5) }, { EPICS_CA_CONN_TMO: '1' });
    const recorder = new Recorder();
    ca.subscribe('PV', recorder);
    await recorder.update(1);
    (server as FakeCaServer).silent = true;
    await recorder.waitFor(() => recorder.states.includes('disconnected'), 15_000, 'unresponsive');
    assert.match(recorder.events.at(-1)?.detail ?? '', /not responding/);
    const echoes = (server as FakeCaServer).requests.filter((request) => request.command === Command.ECHO);
    assert.ok(echoes.length >= 1);
    (server as FakeCaServer).silent = false;
    (server as FakeCaServer).post('PV');
    await recorder.waitFor(() => recorder.states.at(-1) === 'connected', 10_000, 'responsive again');
  });
});
