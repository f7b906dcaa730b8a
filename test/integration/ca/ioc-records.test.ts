/**
 * Every record and element type of the test IOC's database over CA, metadata changes (DBE_PROPERTY), the
 * never-processed record and the growing compress record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CaClient } from '../../../src/epics/ca/client.js';
import type { PvUpdate } from '../../../src/model/update.js';
import { caPut, Recorder, RecordingLogger } from '../../support/ca-recorder.js';
import { TestIoc } from '../../support/ioc.js';

function valueOf(update: PvUpdate): unknown {
  const value = update.value as { value?: unknown; index?: number };
  if (value.index !== undefined) return value.index;
  return ArrayBuffer.isView(value.value)
    ? Array.from(value.value as unknown as ArrayLike<number>)
    : value.value;
}

/** record → [kind, element type, first value (undefined: changes), units] as rsrv serves them. */
const RECORDS: Record<string, [string, string | undefined, unknown, string | undefined]> = {
  counter: ['scalar', 'float64', undefined, ''],
  sine: ['scalar', 'float64', undefined, 'V'],
  ai: ['scalar', 'float64', undefined, 'mA'],
  bi: ['enum', undefined, undefined, undefined],
  mbbi: ['enum', undefined, undefined, undefined],
  longin: ['scalar', 'int32', undefined, ''],
  int64in: ['scalar', 'float64', undefined, 'counts'], // CA has no 64-bit type
  stringin: ['string', undefined, undefined, undefined],
  hist: ['array', 'float64', undefined, ''],
  ao: ['scalar', 'float64', 1.5, 'A'],
  wf: ['array', 'float64', [], ''],
  bigwf: ['array', 'float64', [], ''],
  chars: ['array', 'uint8', [], ''],
  chopper: ['array', 'int32', [], ''],
  never: ['scalar', 'float64', 0, ''],
  'wf:char': ['array', 'uint8', [1, 2, 3, 4, 5], ''],
  'wf:uchar': ['array', 'uint8', [1, 2, 3, 4, 255], ''],
  'wf:short': ['array', 'int16', [-2, -1, 0, 1, 32767], ''],
  'wf:ushort': ['array', 'int32', [1, 2, 3, 4, 65535], ''], // DBF_USHORT is served as DBR_LONG
  'wf:long': ['array', 'int32', [-100000, -1, 0, 1, 100000], ''],
  'wf:ulong': ['array', 'float64', [1, 2, 3, 4, 4000000000], ''],
  'wf:int64': ['array', 'float64', [-5, -1, 0, 1, 5000000000], ''],
  'wf:uint64': ['array', 'float64', [1, 2, 3, 4, 5000000000], ''],
  'wf:float': ['array', 'float32', [0.5, 1.5, 2.5, 3.5, 4.5], ''],
  'wf:double': ['array', 'float64', [0.25, 1.25, 2.25, 3.25, 4.25], ''],
  'wf:string': ['stringArray', undefined, ['a', 'bb', 'ccc', 'dddd', 'eeeee'], undefined],
  'wf:enum': ['array', 'uint16', [0, 1, 2, 1, 0], undefined],
  'aai:int64': ['array', 'float64', [10, 20, 30, 40, 50], ''],
  'SIMPLE:DOUBLE': ['scalar', 'float64', 0, 'K'],
  'SIMPLE:STR': ['string', undefined, 'test', undefined],
  'SIMPLE:BOOL': ['enum', undefined, 0, undefined],
  'SIMPLE:ENUM': ['enum', undefined, 0, undefined],
  'SIMPLE:LONG': ['scalar', 'int32', 0, ''],
  'SIMPLE:USHORT': ['string', undefined, '', undefined], // an event record's VAL is its event name
};

describe('CA client against the test IOC: every record', { timeout: 55_000 }, () => {
  let ioc: TestIoc;
  let client: CaClient;
  let logger: RecordingLogger;
  const recorders = new Map<string, Recorder>();

  before(async () => {
    ioc = await TestIoc.start();
    logger = new RecordingLogger();
    client = new CaClient({ env: ioc.clientEnv, logger });
    for (const record of Object.keys(RECORDS)) {
      const recorder = new Recorder();
      client.subscribe(ioc.pv(record), recorder);
      recorders.set(record, recorder);
    }
  });

  after(async () => {
    await client?.close();
    await ioc?.stop();
  });

  it('delivers every record with its native type, element count and units', async () => {
    for (const [record, [kind, type, value, units]] of Object.entries(RECORDS)) {
      const recorder = recorders.get(record) as Recorder;
      const update = await recorder.update(1);
      assert.deepEqual(recorder.states, ['connected'], record);
      assert.equal(update.value.kind, kind, record);
      assert.equal((update.value as { type?: string }).type, type, record);
      if (value !== undefined) assert.deepEqual(valueOf(update), value, record);
      assert.equal(update.display?.units, units, record);
    }
    assert.equal(client.connectedChannelCount, Object.keys(RECORDS).length);
  });

  it('carries enum strings with every enum update', async () => {
    const bi = recorders.get('bi') as Recorder;
    const mbbi = recorders.get('mbbi') as Recorder;
    const simple = recorders.get('SIMPLE:ENUM') as Recorder;
    assert.deepEqual((bi.last?.value as { choices?: string[] }).choices, ['Off', 'On']);
    assert.deepEqual((mbbi.last?.value as { choices?: string[] }).choices, ['Idle', 'Ramp', 'Hold', 'Fault']);
    assert.deepEqual((simple.last?.value as { choices?: string[] }).choices, ['INIT', 'START', 'STOP']);
  });

  it('follows enum alarms (bi MINOR when On, mbbi MAJOR on Fault)', async () => {
    const bi = recorders.get('bi') as Recorder;
    const on = await bi.updateMatching((update) => valueOf(update) === 1, 0, 5000);
    assert.deepEqual(on.alarm, { severity: 1, status: 7, message: 'STATE' });
    const mbbi = recorders.get('mbbi') as Recorder;
    const fault = await mbbi.updateMatching((update) => valueOf(update) === 3, 0, 8000);
    assert.deepEqual(fault.alarm, { severity: 2, status: 7, message: 'STATE' });
  });

  it('forwards the never-processed record as UDF/INVALID at the EPICS epoch', async () => {
    const never = await (recorders.get('never') as Recorder).update(1);
    assert.deepEqual(never.alarm, { severity: 3, status: 17, message: 'UDF' });
    assert.equal(never.timestampNs, 631_152_000_000_000_000n);
  });

  it('reports the growing length of a compress record (dynamic element count)', async () => {
    const hist = recorders.get('hist') as Recorder;
    await hist.update(3);
    const lengths = hist.updates.map((update) => (valueOf(update) as number[]).length);
    assert.ok(lengths.length >= 3);
    lengths
      .slice(1)
      .forEach((length, i) => assert.ok(length >= (lengths[i] as number), `${lengths.join(',')}`));
    assert.ok((lengths.at(-1) as number) > (lengths[0] as number));
  });

  it('keeps full nanosecond timestamps that move forward', async () => {
    const tickless = recorders.get('ai') as Recorder;
    await tickless.update(3);
    const stamps = tickless.updates.map((update) => update.timestampNs);
    stamps.slice(1).forEach((stamp, i) => assert.ok(stamp > (stamps[i] as bigint)));
    assert.ok(
      stamps.some((stamp) => stamp % 1000n !== 0n),
      'sub-microsecond digits are kept',
    );
  });

  it('picks up a units change (DBE_PROPERTY) on the next update', async () => {
    const double = recorders.get('SIMPLE:DOUBLE') as Recorder;
    await double.update(1);
    const from = double.updates.length;
    await caPut(ioc.clientEnv, [
      [ioc.pv('SIMPLE:DOUBLE.EGU'), 'mK'],
      [ioc.pv('SIMPLE:DOUBLE'), 42],
    ]);
    const update = await double.updateMatching((u) => valueOf(u) === 42, from);
    assert.equal(update.display?.units, 'mK');
    assert.deepEqual(logger.errors(), []);
  });
});
