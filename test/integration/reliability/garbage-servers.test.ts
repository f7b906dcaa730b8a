/**
 * Servers that send garbage (docs/reliability.md, "Servers that send garbage"): besides the test IOC, the
 * forwarder's address lists name CA and PVA servers that serve PVs and then spoil every connection with the
 * client fuzzers' frames (test/support/garbage-servers.ts), each search reply led by a malformed datagram. For
 * some seconds the forwarder keeps reconnecting to them; meanwhile the IOC's 10 Hz tick record must arrive over
 * both protocols without a gap, every protocol error must be counted in forwarder_epics_protocol_errors_total
 * and logged, and memory and file descriptors must stay level.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import { forwarded, plainValue, waitForForwarded } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { GarbageCaServer, GarbagePvaServer } from '../../support/garbage-servers.js';
import { freePort } from '../../support/ports.js';
import { metricValue } from '../operability/scrape.js';
import { countLines, rssMiB } from './world.js';

const world = ForwarderWorld.setUp({ extraTopics: ['pva'] });

const GARBAGE_SERVERS = 2;
const PVS_PER_SERVER = 2;
const RUN_MS = 15_000;
const TICK_RECORD_WRAP = 100_000;

interface Sample {
  heapMiB: number;
  rssMiB: number;
  fds: number;
}

describe('forwarder: servers that send garbage', { timeout: 120_000 }, () => {
  it('keeps forwarding the valid streams gaplessly, counts and logs every protocol error', async (t) => {
    const names = (protocol: string, server: number): string[] =>
      Array.from({ length: PVS_PER_SERVER }, (_, i) => `GARBAGE:${process.pid}:${protocol}${server}:${i}`);
    const servers = Array.from({ length: GARBAGE_SERVERS }, (_, i) => i);
    const caServers = await Promise.all(servers.map((i) => GarbageCaServer.start(names('ca', i), i + 1)));
    const pvaServers = await Promise.all(servers.map((i) => GarbagePvaServer.start(names('pva', i), i + 1)));
    t.after(async () => {
      await Promise.all([...caServers, ...pvaServers].map((server) => server.stop()));
    });

    const httpPort = await freePort();
    const forwarder = await world.startForwarder(
      world.standardArguments(['--http-address', `127.0.0.1:${httpPort}`]),
      {
        // The test IOC first (the default port), then the garbage servers.
        EPICS_CA_ADDR_LIST: ['127.0.0.1', ...caServers.map((s) => `127.0.0.1:${s.port}`)].join(' '),
        EPICS_PVA_ADDR_LIST: ['127.0.0.1', ...pvaServers.map((s) => `127.0.0.1:${s.searchPort}`)].join(' '),
        NODE_OPTIONS: `--expose-gc --import ${join(import.meta.dirname, 'gc-on-signal.mjs')}`,
      },
    );
    const pid = forwarder.child.pid!;
    const metrics = async (): Promise<string> =>
      (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const sample = async (): Promise<Sample> => {
      forwarder.child.kill('SIGUSR2');
      await sleep(300);
      const heap = metricValue(await metrics(), 'nodejs_heap_bytes', { kind: 'used' }) ?? Number.NaN;
      return { heapMiB: heap / 2 ** 20, rssMiB: rssMiB(pid), fds: readdirSync(`/proc/${pid}/fd`).length };
    };

    const tick = world.ioc.pv('tick');
    const protocols = [
      { name: 'CA', protocol: Protocol.CA, label: 'ca', topic: world.topics.data },
      { name: 'PVA', protocol: Protocol.PVA, label: 'pva', topic: world.extraTopic('pva') },
    ] as const;
    const streams = protocols.flatMap(({ protocol, label, topic }) =>
      [tick, ...servers.flatMap((i) => names(label, i))].map((channel) => ({
        channel,
        schema: 'f144',
        topic,
        protocol,
        periodic: 0,
      })),
    );
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
    for (const { name, topic } of protocols) {
      await waitForForwarded(world.reader, topic, 'f144', tick, (m) => m.length >= 10, {
        what: `tick over ${name}`,
        timeoutMs: 30_000,
      });
    }

    const startedAtNs = BigInt(Date.now()) * 1_000_000n;
    const samples = [await sample()];
    for (let elapsed = 0; elapsed < RUN_MS; elapsed += RUN_MS / 3) {
      await sleep(RUN_MS / 3);
      assert.equal(forwarder.child.exitCode, null, 'the forwarder is running');
      samples.push(await sample());
    }
    const endedAtNs = BigInt(Date.now()) * 1_000_000n;
    const scraped = await metrics();

    const figures: Record<string, unknown> = {
      garbageConnections: {
        ca: caServers.map((s) => s.spoilt),
        pva: pvaServers.map((s) => s.spoilt),
      },
    };
    for (const { name, label, topic } of protocols) {
      const ticks = forwarded(world.reader, topic, 'f144', tick)
        .filter((m) => m.message.timestampNs >= startedAtNs && m.message.timestampNs <= endedAtNs)
        .map((m) => Number(plainValue(m.message.value)));
      ticks
        .slice(1)
        .forEach((value, i) =>
          assert.equal(value, (ticks[i]! + 1) % TICK_RECORD_WRAP, `${name} tick ${ticks[i]} then ${value}`),
        );
      // 10 Hz over the run; the reader may lag the last moments.
      assert.ok(ticks.length >= (RUN_MS / 100) * 0.8, `${name}: ${ticks.length} ticks in ${RUN_MS} ms`);
      const errors = {
        circuit: metricValue(scraped, 'forwarder_epics_protocol_errors_total', {
          protocol: label,
          kind: 'circuit',
        }),
        datagram: metricValue(scraped, 'forwarder_epics_protocol_errors_total', {
          protocol: label,
          kind: 'datagram',
        }),
      };
      assert.ok((errors.circuit ?? 0) > 0, `${name} circuit protocol errors counted: ${errors.circuit}`);
      assert.ok((errors.datagram ?? 0) > 0, `${name} malformed datagrams counted: ${errors.datagram}`);
      figures[name] = { ticks: ticks.length, protocolErrors: errors };
    }
    const garbageConnections = [...caServers, ...pvaServers].map((s) => s.spoilt);
    assert.ok(
      garbageConnections.every((spoilt) => spoilt >= 3),
      `every garbage server saw repeated connections (${garbageConnections.join(', ')})`,
    );

    const output = forwarder.output;
    const lines = {
      caCircuit: countLines(
        output,
        /CA server sent an invalid message; closing the circuit.*127\.0\.0\.1:\d+/,
      ),
      caDatagram: countLines(output, /Ignoring a malformed CA datagram from 127\.0\.0\.1:\d+/),
      pvaCircuit: countLines(output, /PVA server 127\.0\.0\.1:\d+ sent invalid data, closing the connection/),
      pvaDatagram: countLines(output, /Ignoring a malformed PVA datagram from 127\.0\.0\.1/),
    };
    figures['logLines'] = lines;
    for (const [kind, count] of Object.entries(lines)) assert.ok(count > 0, `${kind} protocol errors logged`);
    assert.ok(
      lines.caCircuit <= (figures['CA'] as { protocolErrors: { circuit: number } }).protocolErrors.circuit,
      'one line per dropped CA circuit at most',
    );

    figures['samples'] = samples.map((s) => ({
      heapMiB: +s.heapMiB.toFixed(1),
      rssMiB: +s.rssMiB.toFixed(1),
      fds: s.fds,
    }));
    console.log(`garbage server figures: ${JSON.stringify(figures)}`);
    const first = samples[0]!;
    const last = samples.at(-1)!;
    assert.ok(last.heapMiB - first.heapMiB < 5, `heap level (${first.heapMiB} → ${last.heapMiB} MiB)`);
    assert.ok(
      last.rssMiB - first.rssMiB < 40,
      `resident memory bounded (${first.rssMiB} → ${last.rssMiB} MiB)`,
    );
    assert.ok(last.fds - first.fds <= 5, `file descriptors level (${first.fds} → ${last.fds})`);
    assert.equal(forwarder.child.exitCode, null);
  });
});
