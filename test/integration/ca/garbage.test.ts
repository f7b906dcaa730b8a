/**
 * Whatever bytes a server sends, the client never crashes: frames it can tell are wrong close that circuit with
 * a logged error, and the channel reconnects by itself; anything else is survived until the server goes away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { CaClient } from '../../../src/epics/ca/client.js';
import { Recorder, RecordingLogger } from '../../support/ca-recorder.js';
import { FakeCaServer, fakeDouble } from '../../support/ca-fake-server.js';
import { caDetectableFrames, caGarbageBytes, type LiveSubscription } from '../../support/garbage-servers.js';

const PV = 'GARBAGE:PV';
const DBR_TIME_DOUBLE = 20;

describe('garbage from a CA server', { timeout: 58_000 }, () => {
  let server: FakeCaServer;
  let client: CaClient;
  let logger: RecordingLogger;
  let recorder: Recorder;

  before(async () => {
    server = await FakeCaServer.start({ [PV]: fakeDouble(1.5) });
    logger = new RecordingLogger();
    client = new CaClient({ env: server.clientEnv, logger, reconnectSpreadMs: 0, searchInitialDelayMs: 20 });
    recorder = new Recorder();
    client.subscribe(PV, recorder);
    await recorder.update(1);
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  const connections = (): number => recorder.states.filter((state) => state === 'connected').length;

  /** Waits until the channel is connected again after `previous` connections and has delivered a value. */
  async function reconnected(previous: number, updatesBefore: number): Promise<void> {
    await recorder.waitFor(
      () =>
        connections() > previous &&
        recorder.states.at(-1) === 'connected' &&
        recorder.updates.length > updatesBefore,
      5000,
      'reconnection',
    );
  }

  const liveSubscription = (): LiveSubscription => {
    const [subId] = server.subscriptionIds(PV, DBR_TIME_DOUBLE);
    assert.ok(subId !== undefined);
    return { subId, dbrType: DBR_TIME_DOUBLE };
  };

  it('closes the circuit with a logged error and reconnects, for frames it can tell are wrong', async () => {
    await fc.assert(
      fc.asyncProperty(caDetectableFrames, async (makeFrame) => {
        const drops = client.counters.protocolErrors;
        const errors = logger.errors().length;
        const previous = connections();
        const updatesBefore = recorder.updates.length;
        server.inject(makeFrame(liveSubscription()));
        await reconnected(previous, updatesBefore);
        assert.equal(client.counters.protocolErrors, drops + 1);
        assert.equal(logger.errors().length, errors + 1);
        assert.match(logger.errors().at(-1) ?? '', /invalid message/);
        const disconnected = recorder.events.filter((event) => event.state === 'disconnected').at(-1);
        assert.match(disconnected?.detail ?? '', /protocol error/);
      }),
      { numRuns: 40 },
    );
  });

  it('survives random bytes, truncated frames and random headers, and reconnects when the server drops', async () => {
    await fc.assert(
      fc.asyncProperty(caGarbageBytes, async (bytes) => {
        const previous = connections();
        const updatesBefore = recorder.updates.length;
        server.inject(bytes);
        await sleep(30);
        server.dropCircuits();
        await reconnected(previous, updatesBefore);
      }),
      { numRuns: 40 },
    );
    assert.equal(client.counters.listenerErrors, 0);
  });

  it('ignores a malformed datagram before a search reply, counted, with one warning a minute', async () => {
    const second = await FakeCaServer.start({ 'GARBAGE:OTHER': fakeDouble(2.5) });
    second.malformedDatagramBeforeReplies = true;
    const secondLogger = new RecordingLogger();
    const secondClient = new CaClient({
      env: second.clientEnv,
      logger: secondLogger,
      searchInitialDelayMs: 20,
    });
    try {
      const secondRecorder = new Recorder();
      secondClient.subscribe('GARBAGE:OTHER', secondRecorder);
      await secondRecorder.update(1);
      assert.ok(secondClient.counters.badDatagrams >= 1);
      const warnings = secondLogger.entries.filter((entry) => /malformed CA datagram/.test(entry.message));
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.level, 'warn');
      assert.match(warnings[0]?.message ?? '', new RegExp(`from 127\\.0\\.0\\.1:${second.port}: `));
      assert.equal(secondClient.counters.protocolErrors, 0);
    } finally {
      await secondClient.close();
      await second.stop();
    }
  });

  it('never forwards the zeroed data of a non-NORMAL reply', async () => {
    const before = recorder.updates.length;
    const counted = client.counters.updatesWithErrorStatus;
    server.post(PV, 368); // ECA_NORDACCESS
    server.post(PV);
    await recorder.update(before + 1);
    await sleep(50);
    assert.equal(recorder.updates.length, before + 1);
    assert.deepEqual(recorder.last?.value, { kind: 'scalar', type: 'float64', value: 1.5 });
    assert.ok(client.counters.updatesWithErrorStatus > counted);
  });
});
