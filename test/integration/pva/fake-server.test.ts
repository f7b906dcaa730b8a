/**
 * The pvAccess client against the in-repo fake server, for what real servers will not do on demand:
 * big-endian, segmentation, 0xFD/0xFE type caching, the forms of "any" in search replies, pipeline windows,
 * monitor finals, overrun bits, garbage, a silent server, duplicate PVs and a type change across a restart.
 * The fake itself is first validated with p4p's client.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { PvaClient } from '../../../src/epics/pva/client.js';
import {
  type FieldDesc,
  type StructureDesc,
  scalarArrayDesc,
  scalarDesc,
  structure,
} from '../../../src/epics/pva/introspection.js';
import type { PvStructureData } from '../../../src/epics/pva/values.js';
import type { Logger } from '../../../src/logging/logger.js';
import { freePort } from '../../support/ports.js';
import { runPythonCode } from '../../support/python.js';
import { FakePvaServer, type FakePvaServerOptions } from '../../support/pva-server/server.js';
import { UpdateRecorder } from '../../support/pva-recorder.js';
import { ntType as ntScalarType } from '../../support/pva-types.js';

function ntType(value: FieldDesc): StructureDesc {
  return ntScalarType(value, { display: structure('display_t', { units: scalarDesc.string }) });
}

function ntValue(value: unknown, seconds = 1_700_000_000n): PvStructureData {
  return {
    value: value as never,
    alarm: { severity: 0, status: 0, message: '' },
    timeStamp: { secondsPastEpoch: seconds, nanoseconds: 250, userTag: 0 },
    display: { units: 'mm' },
  };
}

class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  debug(): void {}
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
});

async function startServer(options: FakePvaServerOptions = {}, tcpPort = 0): Promise<FakePvaServer> {
  const server = await FakePvaServer.start(
    { searchPort: options.searchPort ?? (await freePort()), ...options },
    tcpPort,
  );
  cleanups.push(() => server.close());
  return server;
}

function clientEnv(...servers: FakePvaServer[]): Record<string, string> {
  return {
    EPICS_PVA_AUTO_ADDR_LIST: 'NO',
    EPICS_PVA_ADDR_LIST: servers.map((s) => `127.0.0.1:${s.options.searchPort}`).join(' '),
  };
}

function startClient(
  env: Record<string, string>,
  options: ConstructorParameters<typeof PvaClient>[0] = {},
): PvaClient {
  const client = new PvaClient({ env, ...options });
  cleanups.push(() => client.close());
  return client;
}

describe('fake PVA server validated with p4p’s client', { timeout: 60_000 }, () => {
  for (const options of [
    {},
    { bigEndian: true, segmentSize: 7, interleaveControl: true, typeCache: true },
  ] as FakePvaServerOptions[]) {
    it(`serves p4p correctly (${JSON.stringify(options)})`, async () => {
      const server = await startServer(options);
      const pv = server.addPv(
        'FAKE:arr',
        ntType(scalarArrayDesc.float64),
        ntValue(new Float64Array([1, 2, 3])),
      );
      const p4p = runPythonCode(
        `
import json, time
from p4p.client.thread import Context
ctx = Context('pva', nt=False)
got = []
sub = ctx.monitor('FAKE:arr', lambda v: got.append(v), notify_disconnect=True)
t0 = time.time()
values = lambda: [g for g in got if not isinstance(g, Exception)]
while not any(list(v.value) == [4, 5] for v in values()) and time.time() - t0 < 25:
    time.sleep(0.05)
sub.close()
print(json.dumps([[list(v.value), v.display.units, v.timeStamp.secondsPastEpoch] for v in values()]))
`,
        { env: clientEnv(server), timeoutMs: 30_000 },
      );
      // Post the second value once p4p's monitor runs (its first update goes out with the START reply).
      const started = Date.now();
      while (server.log.monitorStarts === 0 && Date.now() - started < 20_000) {
        await new Promise((resolveLater) => setTimeout(resolveLater, 20));
      }
      await new Promise((resolveLater) => setTimeout(resolveLater, 200));
      pv.post({ value: new Float64Array([4, 5]) });
      const received = JSON.parse((await p4p).stdout) as unknown[];
      // p4p's thread Context can lose the wake-up of a first update that arrives before monitor() returns
      // (it logs "Lost Subscription update") and then shows only the second one.
      assert.deepEqual(received.at(-1), [[4, 5], 'mm', 1_700_000_000]);
      if (received.length > 1) assert.deepEqual(received[0], [[1, 2, 3], 'mm', 1_700_000_000]);
    });
  }
});

describe('PVA client against the fake server', { timeout: 60_000 }, () => {
  it('decodes a big-endian server, and answers it in big-endian', async () => {
    const server = await startServer({ bigEndian: true });
    server.addPv('BE:int64', ntType(scalarDesc.int64), ntValue(-(2n ** 62n)));
    server.addPv('BE:arr', ntType(scalarArrayDesc.float32), ntValue(new Float32Array([1.5, -2.25])));
    const client = startClient(clientEnv(server));
    const scalar = new UpdateRecorder();
    const array = new UpdateRecorder();
    client.subscribe('BE:int64', scalar);
    client.subscribe('BE:arr', array);
    const update = await scalar.waitForUpdate(() => true, 'BE scalar');
    assert.deepEqual(update.value, { kind: 'scalar', type: 'int64', value: -(2n ** 62n) });
    assert.equal(update.timestampNs, 1_700_000_000_000_000_250n);
    assert.deepEqual((await array.waitForUpdate(() => true, 'BE array')).value, {
      kind: 'array',
      type: 'float32',
      value: new Float32Array([1.5, -2.25]),
    });
    assert.equal(server.log.validations[0]?.method, 'ca');
  });

  it('reassembles segmented messages, with control messages between segments, up to a 100,000-element array', async () => {
    const server = await startServer({ segmentSize: 1000, interleaveControl: true, bigEndian: true });
    const big = new Float64Array(100_000).map((_, i) => i / 4);
    server.addPv('SEG:big', ntType(scalarArrayDesc.float64), ntValue(big));
    const client = startClient(clientEnv(server));
    const recorder = new UpdateRecorder();
    client.subscribe('SEG:big', recorder);
    const update = await recorder.waitForUpdate(() => true, 'segmented array');
    assert.deepEqual(update.value, { kind: 'array', type: 'float64', value: big });
    assert.equal(client.counters.protocolErrors, 0);
  });

  it('decodes types cached with 0xFD and referenced with 0xFE across channels of one connection', async () => {
    const server = await startServer({ typeCache: true });
    const type = ntType(scalarDesc.float64);
    for (let i = 0; i < 5; i++) server.addPv(`CACHE:${i}`, type, ntValue(i));
    const client = startClient(clientEnv(server));
    const recorders = Array.from({ length: 5 }, () => new UpdateRecorder());
    recorders.forEach((recorder, i) => client.subscribe(`CACHE:${i}`, recorder));
    for (const [i, recorder] of recorders.entries()) {
      const update = await recorder.waitForUpdate(() => true, `cached type ${i}`);
      assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: i });
      assert.deepEqual(update.alarm, { severity: 0, status: 0, message: '' });
    }
  });

  for (const replyAddress of ['zeros', 'mapped-any', '127.0.0.1']) {
    it(`connects to the server named by a search reply with address ${replyAddress}`, async () => {
      const server = await startServer({ replyAddress });
      server.addPv('ADDR:x', ntType(scalarDesc.int32), ntValue(3));
      const recorder = new UpdateRecorder();
      startClient(clientEnv(server)).subscribe('ADDR:x', recorder);
      await recorder.waitForUpdate(() => true, 'value');
    });
  }

  it('acknowledges pipelined updates so a small window never stalls the stream', async () => {
    const server = await startServer();
    const pv = server.addPv('PIPE:x', ntType(scalarDesc.int32), ntValue(0));
    const client = startClient(clientEnv(server), { monitor: { pipeline: true, queueSize: 4 } });
    const recorder = new UpdateRecorder();
    client.subscribe('PIPE:x', recorder);
    await recorder.waitForUpdate(() => true, 'first');
    for (let i = 1; i <= 40; i++) pv.post({ value: i });
    await recorder.waitFor(() => recorder.updates.length === 41, 'all 40 posted values');
    assert.deepEqual(
      recorder.updates.map((u) => (u.value as { value: number }).value),
      Array.from({ length: 41 }, (_, i) => i),
    );
    assert.ok(server.log.acks.length >= 10, `acks: ${server.log.acks.join(',')}`);
    assert.ok(server.log.acks.every((n) => n === 2));
  });

  it('reports a monitor final with an error as remote_error, and one without as finished; both re-subscribe', async () => {
    const server = await startServer();
    const pv = server.addPv('FIN:x', ntType(scalarDesc.float64), ntValue(1));
    const recorder = new UpdateRecorder();
    startClient(clientEnv(server)).subscribe('FIN:x', recorder);
    await recorder.waitForUpdate(() => true, 'first');
    pv.finish({ type: 2, message: 'source gone', callTree: '' });
    await recorder.waitFor(() => recorder.states.at(-1) === 'remote_error', 'remote_error');
    assert.match(recorder.events.at(-1)?.detail ?? '', /ERROR: source gone/);
    await recorder.waitFor(() => recorder.states.at(-1) === 'connected', 'monitor re-established', 5_000);
    pv.finish();
    await recorder.waitFor(() => recorder.states.at(-1) === 'finished', 'finished');
    await recorder.waitFor(() => recorder.states.at(-1) === 'connected', 'monitor re-established', 5_000);
    assert.deepEqual(recorder.states, ['connected', 'remote_error', 'connected', 'finished', 'connected']);
    assert.equal(server.log.monitorInits, 3);
  });

  it('counts overrun fields as coalesced updates', async () => {
    const server = await startServer();
    const pv = server.addPv('OVR:x', ntType(scalarDesc.float64), ntValue(1));
    const client = startClient(clientEnv(server));
    const recorder = new UpdateRecorder();
    client.subscribe('OVR:x', recorder);
    await recorder.waitForUpdate(() => true, 'first');
    pv.post({ value: 2 }, [1], [1]);
    await recorder.waitFor(() => recorder.updates.length === 2, 'second');
    assert.equal(client.counters.coalescedUpdates, 1);
  });

  it('closes a circuit that sends garbage with a logged error, and reconnects', async () => {
    const server = await startServer();
    server.addPv('BAD:x', ntType(scalarDesc.float64), ntValue(1));
    const logger = new RecordingLogger();
    const client = startClient(clientEnv(server), { logger });
    const recorder = new UpdateRecorder();
    client.subscribe('BAD:x', recorder);
    await recorder.waitForUpdate(() => true, 'first');
    server.sendRaw(Buffer.from('ca024007ffffff7fdeadbeef', 'hex'));
    server.sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await recorder.waitFor(() => recorder.states.at(-1) === 'disconnected', 'disconnected');
    assert.equal(client.counters.protocolErrors, 1);
    assert.ok(
      logger.lines.some((line) => /^error PVA server .* sent invalid data/.test(line)),
      logger.lines.join('\n'),
    );
    await recorder.waitFor(
      () => recorder.states.at(-1) === 'connected',
      'reconnected after the hold-off',
      10_000,
    );
    assert.equal(recorder.updates.length, 2);
  });

  it('closes a silent connection after the idle timeout and reconnects', async () => {
    const server = await startServer();
    server.addPv('SILENT:x', ntType(scalarDesc.float64), ntValue(1));
    const client = startClient({ ...clientEnv(server), EPICS_PVA_CONN_TMO: '1.5' });
    const recorder = new UpdateRecorder();
    client.subscribe('SILENT:x', recorder);
    await recorder.waitForUpdate(() => true, 'first');
    server.silent = true;
    await recorder.waitFor(() => recorder.states.at(-1) === 'disconnected', 'idle timeout', 8_000);
    assert.match(recorder.events.at(-1)?.detail ?? '', /no answer to echo, no data for 2 s/);
    assert.ok(server.log.echoes >= 1, 'echoes were sent');
    server.silent = false;
    await recorder.waitFor(() => recorder.states.at(-1) === 'connected', 'reconnected', 10_000);
    assert.equal(client.counters.idleTimeouts, 1);
  });

  it('keeps the first server of a PV served twice and warns about the duplicate', async () => {
    const first = await startServer();
    const second = await startServer();
    first.addPv('DUP:x', ntType(scalarDesc.int32), ntValue(1));
    second.addPv('DUP:x', ntType(scalarDesc.int32), ntValue(2));
    const logger = new RecordingLogger();
    const recorder = new UpdateRecorder();
    startClient(clientEnv(first, second), { logger }).subscribe('DUP:x', recorder);
    await recorder.waitForUpdate(() => true, 'value');
    await new Promise((resolveLater) => setTimeout(resolveLater, 1500));
    assert.equal(recorder.updates.length, 1);
    assert.ok(
      logger.lines.some((line) => line.includes('Duplicate PV name "DUP:x"')),
      logger.lines.join('\n'),
    );
  });

  it('takes a new type after the server restarts, never reusing the old value', async () => {
    const searchPort = await freePort();
    const first = await startServer({ searchPort });
    first.addPv('TYPE:x', ntType(scalarDesc.float64), ntValue(1.5));
    const recorder = new UpdateRecorder();
    startClient(clientEnv(first)).subscribe('TYPE:x', recorder);
    await recorder.waitForUpdate(() => true, 'double');
    const port = first.port;
    await first.close();
    await recorder.waitFor(() => recorder.states.at(-1) === 'disconnected', 'disconnected');
    const second = await startServer({ searchPort }, port);
    second.addPv('TYPE:x', ntType(scalarDesc.string), { value: 'now a string' });
    const update = await recorder.waitForUpdate((u) => u.value.kind === 'string', 'string', 1, 15_000);
    assert.deepEqual(update.value, { kind: 'string', value: 'now a string' });
    // Fields the new server did not send start from defaults, not from the old value.
    assert.equal(update.timestampNs, 0n);
    assert.equal(update.display?.units, '');
  });

  it('destroys the monitor and the channel on the server when the last subscription is cancelled', async () => {
    const server = await startServer();
    server.addPv('CANCEL:x', ntType(scalarDesc.float64), ntValue(1));
    const client = startClient(clientEnv(server));
    const a = new UpdateRecorder();
    const b = new UpdateRecorder();
    const subscriptionA = client.subscribe('CANCEL:x', a);
    const subscriptionB = client.subscribe('CANCEL:x', b);
    await b.waitForUpdate(() => true, 'value');
    subscriptionA.cancel();
    await new Promise((resolveLater) => setTimeout(resolveLater, 100));
    assert.equal(server.log.destroyChannels, 0, 'still one subscriber');
    subscriptionB.cancel();
    const started = Date.now();
    while (server.log.destroyChannels === 0 && Date.now() - started < 2000) {
      await new Promise((resolveLater) => setTimeout(resolveLater, 20));
    }
    assert.equal(server.log.destroyRequests, 1);
    assert.equal(server.log.destroyChannels, 1);
    assert.equal(client.channelCount, 0);
  });
});
