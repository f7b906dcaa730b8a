/**
 * 1,000 PVs subscribed at once against a real IOC: all connect and deliver, over one circuit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PvaClient } from '../../../src/epics/pva/client.js';
import type { ConnectionEvent, PvUpdate, SubscriptionListener } from '../../../src/model/update.js';
import { TestIoc } from '../../support/ioc.js';

const COUNT = 1000;

describe(`${COUNT} PVs at once`, { timeout: 60_000 }, () => {
  let ioc: TestIoc;
  let directory: string;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'pva-scale-'));
    const records = Array.from(
      { length: COUNT },
      (_, i) => `record(ao, "$(P)pv${i}") { field(VAL, "${i}") field(PINI, "YES") }`,
    );
    const database = join(directory, 'scale.db');
    await writeFile(database, `${records.join('\n')}\n`);
    ioc = await TestIoc.start({ databases: [database] });
  });

  after(async () => {
    await ioc.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('connects and delivers every one of them', async (t) => {
    const client = new PvaClient({ env: ioc.clientEnv });
    try {
      const values = new Map<number, number>();
      const connected = new Set<number>();
      const started = Date.now();
      let resolveAll = (): void => undefined;
      const all = new Promise<void>((resolve) => (resolveAll = resolve));
      for (let i = 0; i < COUNT; i++) {
        const listener: SubscriptionListener = {
          onConnection: (event: ConnectionEvent) => {
            if (event.state === 'connected') connected.add(i);
          },
          onUpdate: (update: PvUpdate) => {
            values.set(i, (update.value as { value: number }).value);
            if (values.size === COUNT) resolveAll();
          },
        };
        client.subscribe(ioc.pv(`pv${i}`), listener);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        all,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`only ${values.size} of ${COUNT} delivered`)), 30_000);
        }),
      ]);
      clearTimeout(timer);
      const elapsed = Date.now() - started;
      assert.equal(connected.size, COUNT);
      for (let i = 0; i < COUNT; i++) assert.equal(values.get(i), i);
      assert.equal(client.counters.circuitsOpened, 1);
      assert.equal(client.connectedChannelCount, COUNT);
      t.diagnostic(`${COUNT} PVs connected and delivered in ${elapsed} ms`);
    } finally {
      await client.close();
    }
  });
});
