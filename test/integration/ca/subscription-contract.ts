/**
 * Subscription tests every CA server implementation must pass with our client: value kinds of the common
 * native types, alarm transitions, units and enum strings, a 100,000-element array, an array whose length
 * changes, and independent cancellation. Run against EPICS base's rsrv and against caproto's server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CaClient } from '../../../src/epics/ca/client.js';
import type { PvUpdate } from '../../../src/model/update.js';
import { caPut, Recorder, RecordingLogger } from '../../support/ca-recorder.js';

export interface ContractServer {
  readonly clientEnv: Record<string, string>;
  pv(record: string): string;
  stop(): Promise<void>;
}

function valueOf(update: PvUpdate): unknown {
  const value = update.value as { value?: unknown };
  return ArrayBuffer.isView(value.value)
    ? Array.from(value.value as unknown as ArrayLike<number>)
    : value.value;
}

export function describeSubscriptionContract(
  label: string,
  startServer: () => Promise<ContractServer>,
): void {
  describe(`CA subscriptions against ${label}`, { timeout: 55_000 }, () => {
    let server: ContractServer;
    let client: CaClient;
    let logger: RecordingLogger;

    before(async () => {
      server = await startServer();
      logger = new RecordingLogger();
      client = new CaClient({ env: server.clientEnv, logger });
    });

    after(async () => {
      await client?.close();
      await server?.stop();
    });

    const subscribe = (record: string): Recorder => {
      const recorder = new Recorder();
      client.subscribe(server.pv(record), recorder);
      return recorder;
    };

    it('delivers each native type as the matching value kind, connected first', async () => {
      const expected: Record<string, [string, string | undefined, unknown?]> = {
        ai: ['scalar', 'float64'],
        longin: ['scalar', 'int32'],
        stringin: ['string', undefined],
        mbbi: ['enum', undefined],
        'wf:short': ['array', 'int16', [-2, -1, 0, 1, 32767]],
        'wf:long': ['array', 'int32', [-100000, -1, 0, 1, 100000]],
        'wf:float': ['array', 'float32', [0.5, 1.5, 2.5, 3.5, 4.5]],
        'wf:double': ['array', 'float64', [0.25, 1.25, 2.25, 3.25, 4.25]],
        'wf:char': ['array', 'uint8', [1, 2, 3, 4, 5]],
        'wf:string': ['stringArray', undefined, ['a', 'bb', 'ccc', 'dddd', 'eeeee']],
      };
      const recorders = Object.keys(expected).map((record) => [record, subscribe(record)] as const);
      for (const [record, recorder] of recorders) {
        const update = await recorder.update(1);
        const [kind, type, value] = expected[record] as [string, string | undefined, unknown?];
        assert.equal(recorder.events[0]?.state, 'connected', record);
        assert.equal(update.value.kind, kind, record);
        assert.equal((update.value as { type?: string }).type, type, record);
        if (value !== undefined) assert.deepEqual(valueOf(update), value, record);
        assert.ok(update.timestampNs > 1_600_000_000_000_000_000n, `${record} has a current timestamp`);
      }
    });

    it('attaches units and precision, and enum strings', async () => {
      const ai = await subscribe('ai').update(1);
      assert.deepEqual(ai.display, { units: 'mA', precision: 2 });
      const mbbi = await subscribe('mbbi').update(1);
      assert.deepEqual((mbbi.value as { choices?: unknown }).choices, ['Idle', 'Ramp', 'Hold', 'Fault']);
    });

    it('follows alarm transitions with severity, status and the status name', async () => {
      const recorder = subscribe('SIMPLE:DOUBLE');
      await recorder.update(1);
      const values = [12, 16, 25, 7, 2, 12];
      await caPut(
        server.clientEnv,
        values.map((value) => [server.pv('SIMPLE:DOUBLE'), value]),
      );
      await recorder.waitFor(() =>
        values.every((value, i) => recorder.updates.some((u) => valueOf(u) === value && i >= 0)),
      );
      const seen = recorder.updates
        .slice(1)
        .map((update) => [valueOf(update), update.alarm.severity, update.alarm.message]);
      for (const expected of [
        [12, 0, 'NO_ALARM'],
        [16, 1, 'HIGH'],
        [25, 2, 'HIHI'],
        [7, 1, 'LOW'],
        [2, 2, 'LOLO'],
      ]) {
        assert.ok(
          seen.some((entry) => JSON.stringify(entry) === JSON.stringify(expected)),
          `${JSON.stringify(expected)} in ${JSON.stringify(seen)}`,
        );
      }
      const statuses = recorder.updates.slice(1).map((update) => update.alarm.status);
      assert.ok(statuses.includes(3) && statuses.includes(4) && statuses.includes(5) && statuses.includes(6));
    });

    it('receives a 100,000-element array (extended headers)', async () => {
      const recorder = subscribe('bigwf');
      await recorder.update(1);
      const values = Array.from({ length: 100_000 }, (_, i) => i * 0.5);
      await caPut(server.clientEnv, [[server.pv('bigwf'), values]]);
      const update = await recorder.updateMatching(
        (u) => (u.value as { value: Float64Array }).value.length === 100_000,
      );
      const received = (update.value as { value: Float64Array }).value;
      assert.ok(received instanceof Float64Array);
      assert.equal(received[0], 0);
      assert.equal(received[99_999], 49_999.5);
      assert.equal(received[12_345], 6172.5);
    });

    it('follows an array whose length changes', async () => {
      const recorder = subscribe('wf');
      await recorder.update(1);
      const lengths = [3, 7, 1, 2];
      await caPut(
        server.clientEnv,
        lengths.map((length) => [server.pv('wf'), Array.from({ length }, (_, i) => i + length)]),
      );
      await recorder.waitFor(() =>
        recorder.updates.some(
          (u) => valueOf(u) && (valueOf(u) as number[]).length === 2 && (valueOf(u) as number[])[0] === 2,
        ),
      );
      const seen = recorder.updates.map((update) => valueOf(update) as number[]);
      for (const length of lengths) {
        assert.ok(
          seen.some((array) => array.length === length && array[0] === length),
          `length ${length} in ${JSON.stringify(seen)}`,
        );
      }
    });

    it('shares one channel between subscriptions; cancelling one leaves the other running', async () => {
      const first = subscribe('ai');
      const second = subscribe('ai');
      await first.update(1);
      await second.update(1);
      const channels = client.channelCount;
      const extra = new Recorder();
      const subscription = client.subscribe(server.pv('ai'), extra);
      await extra.update(1);
      assert.equal(client.channelCount, channels);
      subscription.cancel();
      subscription.cancel();
      const countAtCancel = extra.updates.length;
      const before = second.updates.length;
      await second.update(before + 3);
      assert.equal(extra.updates.length, countAtCancel);
      assert.deepEqual(logger.errors(), []);
    });
  });
}
