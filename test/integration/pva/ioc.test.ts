/**
 * The pvAccess client against a real IOC (pvxslibs softIoc, QSRV) serving test/env/ioc/test.db: every record
 * and element type, metadata, alarm transitions, units changes, arrays up to 100,000 elements and changing
 * length, pipelining, name servers, and independent subscriptions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PvaClient } from '../../../src/epics/pva/client.js';
import type { PvUpdate, PvValue } from '../../../src/model/update.js';
import { TestIoc } from '../../support/ioc.js';
import { UpdateRecorder, p4pPut, show } from '../../support/pva-recorder.js';

/** What each record's first update must look like (value kind/type, and details where they are fixed). */
const expectations: Record<string, (update: PvUpdate) => void> = {
  counter: (u) => assertScalar(u.value, 'float64'),
  tick: (u) => assertScalar(u.value, 'float64'),
  sine: (u) => {
    assertScalar(u.value, 'float64');
    assert.deepEqual(u.display, { units: 'V', precision: 3 });
  },
  ai: (u) => {
    assertScalar(u.value, 'float64');
    assert.deepEqual(u.display, { units: 'mA', precision: 2 });
  },
  bit: (u) => assertScalar(u.value, 'float64'),
  bi: (u) => assert.deepEqual(withoutIndex(u.value), { kind: 'enum', choices: ['Off', 'On'] }),
  state: (u) => assertScalar(u.value, 'float64'),
  mbbi: (u) =>
    assert.deepEqual(withoutIndex(u.value), { kind: 'enum', choices: ['Idle', 'Ramp', 'Hold', 'Fault'] }),
  longin: (u) => assertScalar(u.value, 'int32'),
  int64in: (u) => {
    assertScalar(u.value, 'int64');
    assert.equal(typeof (u.value as { value: unknown }).value, 'bigint');
    assert.equal(u.display?.units, 'counts');
  },
  stringin: (u) => assert.equal(u.value.kind, 'string'),
  hist: (u) => assertArray(u.value, 'float64'),
  ao: (u) => {
    assert.deepEqual(u.value, { kind: 'scalar', type: 'float64', value: 1.5 });
    assert.deepEqual(u.display, { units: 'A', precision: 3 });
  },
  wf: (u) => assert.deepEqual(u.value, { kind: 'array', type: 'float64', value: new Float64Array(0) }),
  chars: (u) => assertArray(u.value, 'int8'),
  chopper: (u) => assertArray(u.value, 'int32'),
  never: (u) => {
    assert.deepEqual(u.alarm, { severity: 3, status: 2, message: 'UDF' });
    assert.equal(u.timestampNs, 631_152_000_000_000_000n);
  },
  'wf:char': (u) =>
    assert.deepEqual(u.value, { kind: 'array', type: 'int8', value: new Int8Array([1, 2, 3, 4, 5]) }),
  'wf:uchar': (u) =>
    assert.deepEqual(u.value, { kind: 'array', type: 'uint8', value: new Uint8Array([1, 2, 3, 4, 255]) }),
  'wf:short': (u) =>
    assert.deepEqual(u.value, { kind: 'array', type: 'int16', value: new Int16Array([-2, -1, 0, 1, 32767]) }),
  'wf:ushort': (u) =>
    assert.deepEqual(u.value, { kind: 'array', type: 'uint16', value: new Uint16Array([1, 2, 3, 4, 65535]) }),
  'wf:long': (u) =>
    assert.deepEqual(u.value, {
      kind: 'array',
      type: 'int32',
      value: new Int32Array([-100000, -1, 0, 1, 100000]),
    }),
  'wf:ulong': (u) =>
    assert.deepEqual(u.value, {
      kind: 'array',
      type: 'uint32',
      value: new Uint32Array([1, 2, 3, 4, 4000000000]),
    }),
  'wf:int64': (u) =>
    assert.deepEqual(u.value, {
      kind: 'array',
      type: 'int64',
      value: new BigInt64Array([-5n, -1n, 0n, 1n, 5000000000n]),
    }),
  'wf:uint64': (u) =>
    assert.deepEqual(u.value, {
      kind: 'array',
      type: 'uint64',
      value: new BigUint64Array([1n, 2n, 3n, 4n, 5000000000n]),
    }),
  'wf:float': (u) =>
    assert.deepEqual(u.value, {
      kind: 'array',
      type: 'float32',
      value: new Float32Array([0.5, 1.5, 2.5, 3.5, 4.5]),
    }),
  'wf:double': (u) =>
    assert.deepEqual(u.value, {
      kind: 'array',
      type: 'float64',
      value: new Float64Array([0.25, 1.25, 2.25, 3.25, 4.25]),
    }),
  'wf:string': (u) =>
    assert.deepEqual(u.value, { kind: 'stringArray', value: ['a', 'bb', 'ccc', 'dddd', 'eeeee'] }),
  // QSRV serves an ENUM waveform as an NTEnum without choices.
  'wf:enum': (u) => assert.equal(u.value.kind, 'enum'),
  'aai:int64': (u) =>
    assert.deepEqual(u.value, {
      kind: 'array',
      type: 'int64',
      value: new BigInt64Array([10n, 20n, 30n, 40n, 50n]),
    }),
  'SIMPLE:DOUBLE': (u) => {
    assertScalar(u.value, 'float64');
    assert.equal(u.display?.units, 'K');
  },
  'SIMPLE:STR': (u) => assert.deepEqual(u.value, { kind: 'string', value: 'test' }),
  'SIMPLE:BOOL': (u) => assert.deepEqual(u.value, { kind: 'enum', index: 0, choices: ['ZERO', 'ONE'] }),
  'SIMPLE:ENUM': (u) =>
    assert.deepEqual(u.value, { kind: 'enum', index: 0, choices: ['INIT', 'START', 'STOP'] }),
  'SIMPLE:LONG': (u) => assert.deepEqual(u.value, { kind: 'scalar', type: 'int32', value: 0 }),
  // The event record's VAL is a string (the event name).
  'SIMPLE:USHORT': (u) => assert.equal(u.value.kind, 'string'),
};

function assertScalar(value: PvValue, type: string): void {
  assert.equal(value.kind, 'scalar', show(value));
  assert.equal((value as { type: string }).type, type, show(value));
}

function assertArray(value: PvValue, type: string): void {
  assert.equal(value.kind, 'array', show(value));
  assert.equal((value as { type: string }).type, type, show(value));
}

function withoutIndex(value: PvValue): unknown {
  const { index: _index, ...rest } = value as { index: number };
  return rest;
}

describe('PVA client against a real IOC (QSRV)', { timeout: 60_000 }, () => {
  let ioc: TestIoc;
  let client: PvaClient;

  before(async () => {
    ioc = await TestIoc.start();
    client = new PvaClient({ env: ioc.clientEnv });
  });

  after(async () => {
    await client.close();
    await ioc.stop();
  });

  it('delivers every record and element type of the test database', async () => {
    const recorders = new Map(Object.keys(expectations).map((record) => [record, new UpdateRecorder()]));
    for (const [record, recorder] of recorders) client.subscribe(ioc.pv(record), recorder);
    await Promise.all(
      [...recorders].map(([record, recorder]) => recorder.waitFor(() => recorder.updates.length > 0, record)),
    );
    for (const [record, recorder] of recorders) {
      assert.equal(recorder.sequence[0], 'connected', `${record}: connected before the first value`);
      const first = recorder.updates[0] as PvUpdate;
      assert.doesNotThrow(
        () => (expectations[record] as (u: PvUpdate) => void)(first),
        `${record}: ${show(first)}`,
      );
      // Records not processed yet carry the CA epoch (1990) as Unix time.
      assert.ok(first.timestampNs >= 631_152_000_000_000_000n, `${record} timestamp ${show(first)}`);
    }
    assert.equal(client.counters.protocolErrors, 0);
    assert.equal(client.counters.unsupportedUpdates, 0);
  });

  it('follows alarm transitions with severity, status and the QSRV message', async () => {
    const recorder = new UpdateRecorder();
    client.subscribe(ioc.pv('SIMPLE:DOUBLE2'), recorder);
    await recorder.waitFor(() => recorder.updates.length > 0, 'first update');
    const pv = ioc.pv('SIMPLE:DOUBLE2');
    // HIHI 20 MAJOR, HIGH 15 MINOR, LOW 10 MINOR, LOLO 5 MAJOR
    await p4pPut(
      ioc.clientEnv,
      [
        [pv, 25],
        [pv, 16],
        [pv, 12],
        [pv, 7],
        [pv, 1],
        [pv, 12.5],
      ],
      150,
    );
    await recorder.waitForUpdate((u) => u.value.kind === 'scalar' && u.value.value === 12.5, 'last put');
    const alarms = recorder.updates
      .filter((u) => u.value.kind === 'scalar' && [25, 16, 12, 7, 1, 12.5].includes(u.value.value as number))
      .map((u) => [(u.value as { value: number }).value, u.alarm.severity, u.alarm.status, u.alarm.message]);
    assert.deepEqual(alarms, [
      [25, 2, 1, 'HIHI'],
      [16, 1, 1, 'HIGH'],
      [12, 0, 0, ''],
      [7, 1, 1, 'LOW'],
      [1, 2, 1, 'LOLO'],
      [12.5, 0, 0, ''],
    ]);
  });

  it('delivers a display.units change as a delta merged into the last value', async () => {
    const recorder = new UpdateRecorder();
    client.subscribe(ioc.pv('SIMPLE:DOUBLE3'), recorder);
    const first = await recorder.waitForUpdate(() => true, 'first update');
    assert.equal(first.display?.units, 'K');
    await p4pPut(ioc.clientEnv, [[ioc.pv('SIMPLE:DOUBLE3.EGU'), 'mK']]);
    const changed = await recorder.waitForUpdate((u) => u.display?.units === 'mK', 'units change');
    assert.deepEqual(changed.value, first.value);
    assert.equal(changed.timestampNs, first.timestampNs);
  });

  it('receives a 100,000-element array and arrays whose length changes, including to 0', async () => {
    const big = new UpdateRecorder();
    const small = new UpdateRecorder();
    client.subscribe(ioc.pv('bigwf'), big);
    client.subscribe(ioc.pv('wf'), small);
    await big.waitFor(() => big.updates.length > 0 && small.updates.length > 0, 'first updates');
    const ramp = Array.from({ length: 100_000 }, (_, i) => i * 0.5);
    await p4pPut(
      ioc.clientEnv,
      [
        [ioc.pv('bigwf'), ramp],
        [ioc.pv('wf'), [1, 2, 3]],
        [ioc.pv('wf'), []],
        [ioc.pv('wf'), Array.from({ length: 10 }, (_, i) => i)],
      ],
      100,
    );
    const bigUpdate = await big.waitForUpdate(
      (u) => u.value.kind === 'array' && u.value.value.length > 0,
      'big array',
    );
    const values = (bigUpdate.value as { value: Float64Array }).value;
    assert.ok(values instanceof Float64Array);
    assert.equal(values.length, 100_000);
    assert.equal(values[0], 0);
    assert.equal(values[12_345], 6172.5);
    assert.equal(values[99_999], 49_999.5);
    await small.waitFor(() => small.updates.length >= 4, 'three more wf updates');
    assert.deepEqual(
      small.updates.map((u) => (u.value as { value: Float64Array }).value.length),
      [0, 3, 0, 10],
    );
  });

  it('sees the circular buffer record grow one sample per update', async () => {
    const recorder = new UpdateRecorder();
    client.subscribe(ioc.pv('hist'), recorder);
    await recorder.waitFor(() => recorder.updates.length >= 5, 'five hist updates');
    const lengths = recorder.updates.map((u) => (u.value as { value: Float64Array }).value.length);
    for (let i = 1; i < lengths.length; i++) {
      assert.ok((lengths[i] as number) >= (lengths[i - 1] as number), `non-decreasing: ${lengths.join(',')}`);
    }
    assert.ok((lengths[lengths.length - 1] as number) > (lengths[0] as number));
  });

  it('shares one monitor between subscriptions of a PV; cancelling one leaves the other running', async () => {
    const first = new UpdateRecorder();
    const second = new UpdateRecorder();
    const subscriptionA = client.subscribe(ioc.pv('tick'), first);
    client.subscribe(ioc.pv('tick'), second);
    await first.waitFor(() => first.updates.length >= 2 && second.updates.length >= 2, 'both deliver');
    assert.equal(second.sequence[0], 'connected');
    subscriptionA.cancel();
    subscriptionA.cancel();
    const seen = first.updates.length;
    const before = second.updates.length;
    await second.waitFor(() => second.updates.length >= before + 3, 'the other continues');
    assert.equal(first.updates.length, seen);
    // A late subscriber to a running monitor gets "connected" and the current value at once.
    const late = new UpdateRecorder();
    client.subscribe(ioc.pv('tick'), late);
    await late.waitFor(() => late.updates.length >= 1, 'replayed value', 2000);
    assert.deepEqual(late.sequence.slice(0, 2), ['connected', 'update']);
  });

  it('delivers nothing more to a subscription cancelled by another listener during a delivery', async () => {
    const cancelled = new UpdateRecorder();
    const canceller = new UpdateRecorder();
    client.subscribe(ioc.pv('tick'), {
      onConnection: (event) => canceller.onConnection(event),
      onUpdate: (update) => {
        other.cancel(); // updates arrive after both subscribe calls have returned
        canceller.onUpdate(update);
      },
    });
    const other = client.subscribe(ioc.pv('tick'), cancelled);
    await canceller.waitFor(() => canceller.updates.length >= 3, 'the canceller keeps receiving');
    assert.equal(cancelled.updates.length, 0);
  });

  it('keeps delivering with pipelining (ACKs re-open the server’s window)', async () => {
    const pipelined = new PvaClient({ env: ioc.clientEnv, monitor: { pipeline: true, queueSize: 4 } });
    try {
      const recorder = new UpdateRecorder();
      pipelined.subscribe(ioc.pv('tick'), recorder);
      await recorder.waitFor(() => recorder.updates.length >= 15, 'more updates than the window', 10_000);
    } finally {
      await pipelined.close();
    }
  });

  it('finds PVs through EPICS_PVA_NAME_SERVERS over TCP, without UDP search', async () => {
    const env = {
      EPICS_PVA_AUTO_ADDR_LIST: 'NO',
      EPICS_PVA_ADDR_LIST: '',
      EPICS_PVA_NAME_SERVERS: `127.0.0.1:${ioc.ports.pvaServerPort}`,
    };
    const viaNameServer = new PvaClient({ env });
    try {
      const recorder = new UpdateRecorder();
      viaNameServer.subscribe(ioc.pv('ao'), recorder);
      const update = await recorder.waitForUpdate(() => true, 'value via name server');
      assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: 1.5 });
      assert.equal(viaNameServer.counters.searchDatagramsSent, 0);
    } finally {
      await viaNameServer.close();
    }
  });

  it('counts deliveries and bytes for metrics', () => {
    const counters = client.counters;
    assert.ok(counters.updatesReceived > 50);
    assert.ok(counters.updatesDelivered >= counters.updatesReceived);
    assert.ok(counters.bytesReceived > 800_000);
    assert.equal(counters.circuitsOpened, 1);
    assert.equal(client.connectedChannelCount, client.channelCount);
  });
});
