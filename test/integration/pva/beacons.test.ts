/**
 * Server beacons (docs/protocols/pvaccess.md, "Beacons"): the listening socket shares its port with every other
 * on the host, and two clients, as two forwarders on one host would, both connect within a second of an IOC's
 * start and restart, instead of at their next search.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastListener } from '../../../src/epics/common/transport.js';
import { PvaClient } from '../../../src/epics/pva/client.js';
import { TestIoc } from '../../support/ioc.js';
import { freePort } from '../../support/ports.js';
import { UpdateRecorder } from '../../support/pva-recorder.js';

const LOOPBACK_BROADCAST = '127.255.255.255';
/** How soon after the IOC runs its first update must arrive: a beacon's search, not the back-off's. */
const CONNECT_LIMIT_MS = 1_000;

describe('PVA beacons', { timeout: 60_000 }, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('gives every socket listening at a broadcast address its own copy, and none a unicast datagram', async () => {
    const port = await freePort();
    const received: string[][] = [[], []];
    for (const copies of received) {
      const listener = await BroadcastListener.open(
        LOOPBACK_BROADCAST,
        port,
        (datagram) => copies.push(datagram.toString()),
        (error) => assert.fail(error),
      );
      cleanup.push(() => listener.close());
    }
    const sender = createSocket('udp4');
    cleanup.push(() => new Promise((resolveClose) => sender.close(() => resolveClose(undefined))));
    await new Promise<void>((resolveBind) => sender.bind(0, '127.0.0.1', resolveBind));
    sender.setBroadcast(true);
    sender.send('unicast', port, '127.0.0.1');
    sender.send('broadcast', port, LOOPBACK_BROADCAST);
    for (let i = 0; i < 50 && received.some((copies) => copies.length === 0); i++) await sleep(20);
    await sleep(100);
    assert.deepEqual(received, [['broadcast'], ['broadcast']]);
  });

  it('connects two clients within a second of the IOC starting late and of each restart', async () => {
    const ioc = await TestIoc.start();
    cleanup.push(() => ioc.stop());
    await ioc.stop();
    const clients = [new PvaClient({ env: ioc.clientEnv }), new PvaClient({ env: ioc.clientEnv })];
    const recorders = clients.map(() => new UpdateRecorder());
    for (const [i, client] of clients.entries()) {
      cleanup.push(() => client.close());
      client.subscribe(ioc.pv('tick'), recorders[i]!);
    }

    /** Starts the IOC and returns how long each client took to its first update after the start. */
    const startAndTime = async (what: string): Promise<number[]> => {
      const before = recorders.map((recorder) => recorder.updates.length);
      await ioc.start();
      const runningAt = Date.now();
      return Promise.all(
        recorders.map(async (recorder, i) => {
          await recorder.waitFor(
            () => recorder.updates.length > before[i]!,
            `client ${i + 1} ${what}`,
            20_000,
          );
          return Date.now() - runningAt;
        }),
      );
    };

    // Past the third search: without beacons the next comes 4 s later.
    await sleep(6_500);
    const lateStart = await startAndTime('after the late start');
    console.log(`# IOC started late: first update ${lateStart.join(' and ')} ms after it ran`);
    for (const ms of lateStart) assert.ok(ms <= CONNECT_LIMIT_MS, `${ms} ms after the late start`);

    await ioc.kill();
    for (const recorder of recorders) {
      await recorder.waitFor(
        () => recorder.states.at(-1) === 'disconnected',
        'disconnected after the kill',
        5_000,
      );
    }
    // Past the searches at once, after 1 s and 3 s; the next comes 6 s after the loss.
    await sleep(4_000);
    const restart = await startAndTime('after the restart');
    console.log(`# IOC restarted: first update ${restart.join(' and ')} ms after it ran`);
    for (const ms of restart) assert.ok(ms <= CONNECT_LIMIT_MS, `${ms} ms after the restart`);

    for (const client of clients) {
      assert.ok(client.counters.beaconAnomalies >= 2, `${client.counters.beaconAnomalies} beacon anomalies`);
      assert.equal(client.counters.badDatagrams, 0);
    }
  });
});
