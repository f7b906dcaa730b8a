/**
 * Scale and name resolution against a real IOC: 1,000 PVs subscribed at once, and resolution through a TCP name
 * server (EPICS_CA_NAME_SERVERS) with UDP search disabled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaClient } from '../../../src/epics/ca/client.js';
import { Recorder, RecordingLogger } from '../../support/ca-recorder.js';
import { TestIoc } from '../../support/ioc.js';

const PV_COUNT = 1000;

describe('CA client at scale', { timeout: 55_000 }, () => {
  let ioc: TestIoc;
  let directory: string;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'ca-scale-'));
    const database = join(directory, 'many.db');
    const records = Array.from(
      { length: PV_COUNT },
      (_, i) => `record(ao, "$(P)many:${i}") { field(VAL, "${i}") field(PINI, "YES") }`,
    );
    writeFileSync(database, records.join('\n') + '\n');
    ioc = await TestIoc.start({ databases: [database] });
  });

  after(async () => {
    await ioc?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it(`connects and delivers ${PV_COUNT} PVs subscribed at once`, async () => {
    const logger = new RecordingLogger();
    const client = new CaClient({ env: ioc.clientEnv, logger });
    try {
      const recorders = Array.from({ length: PV_COUNT }, (_, i) => {
        const recorder = new Recorder();
        client.subscribe(ioc.pv(`many:${i}`), recorder);
        return recorder;
      });
      const started = Date.now();
      await Promise.all(recorders.map((recorder) => recorder.update(1, 30_000)));
      const elapsed = Date.now() - started;
      recorders.forEach((recorder, i) => {
        assert.deepEqual(recorder.states, ['connected']);
        assert.deepEqual(recorder.updates[0]?.value, { kind: 'scalar', type: 'float64', value: i });
      });
      assert.equal(client.connectedChannelCount, PV_COUNT);
      assert.equal(client.circuitCount, 1);
      assert.deepEqual(logger.errors(), []);
      assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    } finally {
      await client.close();
    }
  });

  it('resolves names through a TCP name server when UDP search is off', async () => {
    const env = {
      ...ioc.clientEnv,
      EPICS_CA_ADDR_LIST: '',
      EPICS_CA_AUTO_ADDR_LIST: 'NO',
      EPICS_CA_NAME_SERVERS: `127.0.0.1:${ioc.ports.caServerPort}`,
    };
    const client = new CaClient({ env, logger: new RecordingLogger() });
    try {
      const recorder = new Recorder();
      client.subscribe(ioc.pv('many:7'), recorder);
      const update = await recorder.update(1, 15_000);
      assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: 7 });
      assert.equal(client.counters.searchDatagramsSent, 0);
    } finally {
      await client.close();
    }
  });
});
