/**
 * Whatever bytes a server sends, the client never crashes: frames it can tell are wrong close that circuit with
 * a logged error, and the channel reconnects by itself; anything else is survived until the server goes away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CaClient } from '../../../src/epics/ca/client.js';
import { encodeMessage } from '../../../src/epics/ca/messages.js';
import { Recorder, RecordingLogger, sleep } from '../../support/ca-recorder.js';
import { FakeCaServer, fakeDouble } from '../../support/ca-fake-server.js';

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

  const liveSubscription = (): number => {
    const [subId] = server.subscriptionIds(PV, DBR_TIME_DOUBLE);
    assert.ok(subId !== undefined);
    return subId;
  };

  /** Frames the client must recognise as protocol violations. */
  const detectable = fc.oneof(
    // Absurd sizes (extended header beyond any memory cap).
    fc
      .record({
        command: fc.integer({ min: 0, max: 27 }),
        size: fc.integer({ min: 0x40000000, max: 0xffffffff }),
      })
      .map(({ command, size }) => {
        const frame = Buffer.alloc(24);
        frame.writeUInt16BE(command, 0);
        frame.writeUInt16BE(0xffff, 2);
        frame.writeUInt32BE(size, 16);
        return () => frame;
      }),
    // Commands no server sends.
    fc.record({ command: fc.integer({ min: 28, max: 0xffff }), p1: fc.nat(), p2: fc.nat() }).map(
      ({ command, p1, p2 }) =>
        () =>
          encodeMessage(command, 0, 0, p1, p2),
    ),
    // A subscription update too short for the count it announces.
    fc
      .integer({ min: 2, max: 5000 })
      .map(
        (count) => () => encodeMessage(1, DBR_TIME_DOUBLE, count, 1, liveSubscription(), Buffer.alloc(24)),
      ),
    // An update of another DBR type than subscribed, or of no DBR type at all.
    fc
      .integer({ min: 0, max: 0xffff })
      .filter((type) => type !== DBR_TIME_DOUBLE)
      .map((type) => () => encodeMessage(1, type, 1, 1, liveSubscription(), Buffer.alloc(96))),
    // A CREATE_CHAN reply with a native type that does not exist.
    fc.integer({ min: 7, max: 0xffff }).map((type) => () => encodeMessage(18, type, 1, 1, 1)),
  );

  it('closes the circuit with a logged error and reconnects, for frames it can tell are wrong', async () => {
    await fc.assert(
      fc.asyncProperty(detectable, async (makeFrame) => {
        const drops = client.counters.circuitsDroppedForProtocolErrors;
        const errors = logger.errors().length;
        const previous = connections();
        const updatesBefore = recorder.updates.length;
        server.inject(makeFrame());
        await reconnected(previous, updatesBefore);
        assert.equal(client.counters.circuitsDroppedForProtocolErrors, drops + 1);
        assert.equal(logger.errors().length, errors + 1);
        assert.match(logger.errors().at(-1) ?? '', /invalid message/);
        const disconnected = recorder.events.filter((event) => event.state === 'disconnected').at(-1);
        assert.match(disconnected?.detail ?? '', /protocol error/);
      }),
      { numRuns: 40 },
    );
  });

  it('survives random bytes, truncated frames and random headers, and reconnects when the server drops', async () => {
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 400 }),
      fc
        .record({
          command: fc.integer({ min: 0, max: 30 }),
          dataType: fc.integer({ min: 0, max: 40 }),
          count: fc.integer({ min: 0, max: 0xffff }),
          p1: fc.nat(),
          p2: fc.nat(),
          payload: fc.uint8Array({ maxLength: 200 }),
          cut: fc.nat(),
        })
        .map(({ command, dataType, count, p1, p2, payload, cut }) => {
          const frame = encodeMessage(command, dataType, count, p1, p2, payload);
          return frame.subarray(0, 1 + (cut % frame.length));
        }),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        const previous = connections();
        const updatesBefore = recorder.updates.length;
        server.inject(Buffer.from(bytes));
        await sleep(30);
        server.dropCircuits();
        await reconnected(previous, updatesBefore);
      }),
      { numRuns: 40 },
    );
    assert.equal(client.counters.listenerErrors, 0);
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
