/**
 * The pvAccess client against a p4p (pvxs) server for what QSRV does not serve: NTTable, nested structures,
 * unions, variant unions, structure/union/variant arrays, field-subset updates, a server-side channel destroy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PvaClient, type StructureListener, type StructureUpdate } from '../../../src/epics/pva/client.js';
import { scalarDesc, scalarArrayDesc } from '../../../src/epics/pva/introspection.js';
import { PvUnion, PvVariant } from '../../../src/epics/pva/values.js';
import type { ConnectionEvent } from '../../../src/model/update.js';
import { P4pServer } from '../../support/pva-p4p-server.js';
import { UpdateRecorder } from '../../support/pva-recorder.js';

class StructureRecorder implements StructureListener {
  readonly updates: StructureUpdate[] = [];
  readonly events: ConnectionEvent[] = [];
  onStructure(update: StructureUpdate): void {
    this.updates.push(update);
  }
  onConnection(event: ConnectionEvent): void {
    this.events.push(event);
  }
  async waitFor(count: number, what: string): Promise<StructureUpdate> {
    const started = Date.now();
    while (this.updates.length < count) {
      if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolveLater) => setTimeout(resolveLater, 20));
    }
    return this.updates[count - 1] as StructureUpdate;
  }
}

describe('PVA client against a p4p server', { timeout: 60_000 }, () => {
  let server: P4pServer;
  let client: PvaClient;

  before(async () => {
    server = await P4pServer.start();
    client = new PvaClient({ env: server.clientEnv });
  });

  after(async () => {
    await client.close();
    await server.stop();
  });

  it('maps an NTTable to columns by label, in label order', async () => {
    const recorder = new UpdateRecorder();
    client.subscribe(server.pv('table'), recorder);
    const first = await recorder.waitForUpdate(() => true, 'table');
    assert.equal(first.value.kind, 'table');
    const columns = first.value.kind === 'table' ? first.value.columns : new Map();
    assert.deepEqual([...columns.keys()], ['timestamp', 'value', 'name']);
    assert.deepEqual(columns.get('timestamp'), {
      kind: 'array',
      type: 'uint64',
      value: new BigUint64Array([10n, 11n, 12n]),
    });
    assert.deepEqual(columns.get('value'), {
      kind: 'array',
      type: 'float64',
      value: new Float64Array([5, 6, 7]),
    });
    assert.deepEqual(columns.get('name'), { kind: 'stringArray', value: ['row0', 'row1', 'row2'] });
    await server.command({ op: 'post_table' });
    const second = await recorder.waitForUpdate((u) => u !== first, 'new rows', 1);
    const newColumns = second.value.kind === 'table' ? second.value.columns : new Map();
    assert.deepEqual(newColumns.get('timestamp'), {
      kind: 'array',
      type: 'uint64',
      value: new BigUint64Array([20n, 21n, 22n]),
    });
  });

  it('decodes nested structures (structure listeners see every level)', async () => {
    const structures = new StructureRecorder();
    const updates = new UpdateRecorder();
    client.subscribeStructure(server.pv('nested'), structures);
    client.subscribe(server.pv('nested'), updates);
    const first = await structures.waitFor(1, 'nested');
    assert.deepEqual(first.value['config'], { inner: { deep: -(2n ** 40n), text: 'deep text' }, gain: 0.5 });
    assert.deepEqual(
      first.changed.filter((path) => path.startsWith('config')),
      ['config.inner.deep', 'config.inner.text', 'config.gain'],
    );
    const update = await updates.waitForUpdate(() => true, 'nested update');
    assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: 2.5 });
    assert.equal(update.timestampNs, 1_700_000_000_000_000_005n);
  });

  it('decodes unions, variant unions and structure, union and variant arrays', async () => {
    const structures = new StructureRecorder();
    const updates = new UpdateRecorder();
    client.subscribeStructure(server.pv('compound'), structures);
    client.subscribe(server.pv('compound'), updates);
    const first = await structures.waitFor(1, 'compound');
    assert.deepEqual(first.value['value'], new PvUnion('s', scalarDesc.string, 'hello'));
    assert.deepEqual(first.value['variant'], new PvVariant(scalarDesc.float64, 4.5));
    assert.deepEqual(first.value['points'], [
      { x: 1, label: 'a' },
      { x: -2, label: 'b' },
    ]);
    assert.deepEqual(first.value['choices'], [
      new PvUnion('a', scalarDesc.int32, 3),
      new PvUnion('b', scalarDesc.string, 'x'),
    ]);
    assert.deepEqual(first.value['variants'], [
      new PvVariant(scalarDesc.int64, 1n),
      new PvVariant(scalarDesc.string, 'two'),
    ]);
    // The update model takes the selected member of a value union.
    assert.deepEqual((await updates.waitForUpdate(() => true, 'union value')).value, {
      kind: 'string',
      value: 'hello',
    });
    assert.deepEqual(updates.last?.alarm, { severity: 1, status: 3, message: 'compound' });
    await server.command({ op: 'post_compound' });
    const second = await structures.waitFor(2, 'compound update');
    assert.deepEqual(
      second.value['value'],
      new PvUnion('arr', scalarArrayDesc.int32, new Int32Array([1, 2, 3])),
    );
    assert.deepEqual(second.value['points'], [
      { x: 2, label: 'a' },
      { x: -2, label: 'b' },
    ]);
    const update = await updates.waitForUpdate((u) => u.value.kind === 'array', 'array in the union', 1);
    assert.deepEqual(update.value, { kind: 'array', type: 'int32', value: new Int32Array([1, 2, 3]) });
  });

  it('maps a value held in a variant union', async () => {
    const recorder = new UpdateRecorder();
    client.subscribe(server.pv('variant'), recorder);
    assert.deepEqual((await recorder.waitForUpdate(() => true, 'variant')).value, {
      kind: 'string',
      value: 'in a variant',
    });
  });

  it('connects a PV whose value the update model cannot express, and counts its updates as unsupported', async () => {
    const recorder = new UpdateRecorder();
    const structures = new StructureRecorder();
    client.subscribe(server.pv('structvalue'), recorder);
    client.subscribeStructure(server.pv('structvalue'), structures);
    await recorder.waitFor(() => recorder.states.includes('connected'), 'connected');
    const structure = await structures.waitFor(1, 'structure');
    assert.deepEqual(structure.value['value'], { a: 1, b: 'x' });
    assert.equal(recorder.updates.length, 0);
    assert.ok(client.counters.unsupportedUpdates >= 1);
  });

  it('keeps the full 64-bit range of unsigned values', async () => {
    const recorder = new UpdateRecorder();
    client.subscribe(server.pv('uint64'), recorder);
    assert.deepEqual((await recorder.waitForUpdate(() => true, 'uint64')).value, {
      kind: 'scalar',
      type: 'uint64',
      value: 2n ** 64n - 1n,
    });
  });

  it('merges field-subset updates into the last value', async () => {
    const recorder = new UpdateRecorder();
    const structures = new StructureRecorder();
    client.subscribe(server.pv('subset'), recorder);
    client.subscribeStructure(server.pv('subset'), structures);
    const first = await recorder.waitForUpdate(() => true, 'subset');
    await structures.waitFor(1, 'subset structure');
    await server.command({ op: 'post_value', value: 7.5 });
    const valueOnly = await recorder.waitForUpdate(
      (u) => u.value.kind === 'scalar' && u.value.value === 7.5,
      'value',
    );
    assert.deepEqual((await structures.waitFor(2, 'value delta')).changed, ['value']);
    assert.equal(valueOnly.timestampNs, first.timestampNs, 'timestamp kept from the earlier update');
    await server.command({ op: 'post_units', units: 'mK' });
    const unitsOnly = await recorder.waitForUpdate((u) => u.display?.units === 'mK', 'units');
    assert.deepEqual((await structures.waitFor(3, 'units delta')).changed, ['display.units']);
    assert.deepEqual(unitsOnly.value, { kind: 'scalar', type: 'float64', value: 7.5 });
  });

  it('reports a channel destroyed by the server and reconnects when the PV is back', async () => {
    const recorder = new UpdateRecorder();
    const other = new UpdateRecorder();
    client.subscribe(server.pv('subset'), recorder);
    client.subscribe(server.pv('uint64'), other);
    await recorder.waitFor(() => recorder.updates.length > 0, 'connected');
    await other.waitFor(() => other.updates.length > 0, 'other connected');
    await server.command({ op: 'close', pv: 'subset' });
    await recorder.waitFor(() => recorder.states.at(-1) === 'destroyed', 'destroyed');
    await server.command({ op: 'open', pv: 'subset' });
    await recorder.waitFor(
      () => recorder.states.at(-1) === 'connected' && recorder.sequence.at(-1) === 'update',
      'back',
    );
    assert.deepEqual(recorder.last?.value, { kind: 'scalar', type: 'float64', value: 1 });
    assert.deepEqual(other.states, ['connected'], 'other channels on the same server are unaffected');
    assert.equal(client.counters.protocolErrors, 0);
  });
});
