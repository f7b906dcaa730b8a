/**
 * The daemon's HTTP listener and Graphite export with a running forwarder, the real broker and the test IOC:
 * counters move as updates flow and as commands are accepted or rejected, health, /status.json, the status page
 * (escaping included) and Carbon lines. The exposition is also read by Prometheus' own parser.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import { ForwarderProcess, stoppedInStartUp } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { freePort } from '../../support/ports.js';
import { runPythonCode } from '../../support/python.js';
import { renderInChromium } from './chromium.js';
import { CarbonListener, httpGet, metricValue, pollUntil } from './scrape.js';

const world = ForwarderWorld.setUp();
const serviceId = `Ops Test.${process.pid}`;
/** A fake-protocol PV whose name would be markup if the page did not escape it. */
const markupPv = `SIM:<b>bold</b>&"quoted"'`;
let carbon: CarbonListener;
let forwarder: ForwarderProcess;
let base: string;

interface StatusStream {
  pv: string;
  problem: string | null;
  reason: string | null;
  server: string | null;
  protocol: string;
  topic: string;
  schema: string;
  state: string;
  lastUpdate: string | null;
  updates: number;
  messages: number;
  rejected: { timestamp: number; unsupported: number; error: number };
}

interface Status {
  overall: string;
  problems: Record<string, number>;
  service: { serviceId: string; version: string; uptimeSeconds: number; hostName: string; processId: number };
  health: { healthy: boolean; status: string };
  streams: StatusStream[];
  commands: { accepted: number; rejected: number; skippedStreams: number };
  kafka: Record<string, { delivered: number; inFlight: number }>;
}

const scrape = async (): Promise<string> => {
  const reply = await httpGet(`${base}/metrics`);
  assert.equal(reply.status, 200);
  return reply.body;
};
const status = async (): Promise<Status> => JSON.parse((await httpGet(`${base}/status.json`)).body) as Status;

function addCommand(streams: { pv: string; protocol: Protocol; schema: string }[]): Uint8Array {
  return serialiseFc00({
    configChange: UpdateType.ADD,
    streams: streams.map(({ pv, protocol, schema }) => ({
      channel: pv,
      protocol,
      schema,
      topic: world.topics.data,
      periodic: 0,
    })),
  });
}

describe('forwarder metrics, health and status over HTTP', () => {
  before(async () => {
    carbon = await CarbonListener.start();
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    forwarder = await world.startForwarder(
      world.standardArguments([
        '--skip-retrieval',
        '--service-id',
        serviceId,
        '--http-address',
        `127.0.0.1:${httpPort}`,
        '--grafana-carbon-address',
        `127.0.0.1:${carbon.port}`,
        '--statistics-update-interval',
        '1',
        '--fake-pv-period',
        '200',
        '--metrics-per-pv',
      ]),
    );
  });

  after(async () => {
    await carbon?.close();
  });

  it('is healthy once started, with nothing forwarded yet', async () => {
    // A scrape alone (no /healthz call before) checks health for forwarder_healthy.
    const metrics = await scrape();
    assert.equal(metricValue(metrics, 'forwarder_streams', { state: 'connected' }), 0);
    assert.equal(metricValue(metrics, 'forwarder_updates_received_total'), 0);
    assert.equal(metricValue(metrics, 'forwarder_config_commands_total', { outcome: 'accepted' }), 0);
    assert.equal(metricValue(metrics, 'forwarder_healthy'), 1);
    assert.ok((metricValue(metrics, 'process_resident_memory_bytes') ?? 0) > 10_000_000);
    assert.ok((metricValue(metrics, 'process_cpu_seconds_total') ?? 0) > 0);
    const health = await httpGet(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.match(health.contentType, /^application\/json/);
    assert.deepEqual(JSON.parse(health.body), {
      healthy: true,
      status: 'ok',
      checks: { configConsumer: 'up', outputProducer: 'up' },
    });
  });

  it('counts updates, messages, deliveries and latencies as CA, PVA and fake streams forward', async () => {
    await world.sendCommand(
      addCommand([
        { pv: world.ioc.pv('tick'), protocol: Protocol.CA, schema: 'f144' },
        { pv: world.ioc.pv('sine'), protocol: Protocol.PVA, schema: 'f144' },
        { pv: markupPv, protocol: Protocol.FAKE, schema: 'f144' },
      ]),
    );
    const first = await pollUntil(
      scrape,
      (text) =>
        metricValue(text, 'forwarder_streams', { state: 'connected' }) === 3 &&
        (metricValue(text, 'forwarder_kafka_messages_delivered_total', { producer: 'output' }) ?? 0) >= 20 &&
        metricValue(text, 'forwarder_kafka_latency_seconds', {
          producer: 'output',
          stage: 'rtt',
          quantile: '0.99',
        }) !== undefined,
      'three connected streams and deliveries',
    );
    const later = await pollUntil(
      scrape,
      (text) =>
        (metricValue(text, 'forwarder_updates_received_total') ?? 0) >=
        (metricValue(first, 'forwarder_updates_received_total') ?? 0) + 10,
      'more updates',
    );
    const updates = metricValue(later, 'forwarder_updates_received_total') ?? 0;
    const forwarded = metricValue(later, 'forwarder_messages_forwarded_total') ?? 0;
    assert.ok(forwarded >= updates, `${forwarded} messages for ${updates} updates`);
    assert.ok(
      (metricValue(later, 'forwarder_kafka_messages_queued_total', { producer: 'output' }) ?? 0) >= forwarded,
    );
    assert.equal(metricValue(later, 'forwarder_kafka_delivery_errors_total', { producer: 'output' }), 0);
    assert.equal(metricValue(later, 'forwarder_kafka_queue_full_total', { producer: 'output' }), 0);
    assert.ok(
      (metricValue(later, 'forwarder_kafka_messages_delivered_total', { producer: 'status' }) ?? 0) > 0,
    );
    assert.ok(metricValue(later, 'forwarder_kafka_in_flight_messages', { producer: 'output' }) !== undefined);
    const produced = metricValue(later, 'forwarder_epics_to_produce_seconds_count') ?? 0;
    assert.ok(produced > 0 && produced <= forwarded);
    assert.equal(metricValue(later, 'forwarder_epics_to_produce_seconds_bucket', { le: '+Inf' }), produced);
    assert.equal(metricValue(later, 'forwarder_config_commands_total', { outcome: 'accepted' }), 1);
    // The EPICS clients' own counters.
    assert.ok((metricValue(later, 'forwarder_ca_updates_delivered_total') ?? 0) > 0);
    assert.ok((metricValue(later, 'forwarder_pva_updates_received_total') ?? 0) > 0);
    // Per-PV series, asked for with --metrics-per-pv.
    const tickLabels = { pv: world.ioc.pv('tick'), protocol: 'ca', topic: world.topics.data, schema: 'f144' };
    assert.ok((metricValue(later, 'forwarder_stream_updates_total', tickLabels) ?? 0) > 0);
    assert.equal(metricValue(later, 'forwarder_stream_connected', tickLabels), 1);
    const lastUpdate = metricValue(later, 'forwarder_stream_last_update_timestamp_seconds', tickLabels) ?? 0;
    assert.ok(Math.abs(Date.now() / 1000 - lastUpdate) < 10, `last update at ${lastUpdate}`);
    const markupLabels = { pv: markupPv, protocol: 'fake', topic: world.topics.data, schema: 'f144' };
    assert.equal(metricValue(later, 'forwarder_stream_connected', markupLabels), 1);
  });

  it('counts rejected and skipped streams, rejected commands and refused messages', async () => {
    const before = await scrape();
    const beforeRejected = (reason: string): number =>
      metricValue(before, 'forwarder_messages_rejected_total', { reason }) ?? 0;
    // A string cannot go out as f144; a never-processed record has a 1990 timestamp; ca cannot serve se00.
    await world.sendCommand(
      addCommand([
        { pv: world.ioc.pv('stringin'), protocol: Protocol.CA, schema: 'f144' },
        { pv: world.ioc.pv('never'), protocol: Protocol.CA, schema: 'f144' },
        { pv: world.ioc.pv('ai'), protocol: Protocol.CA, schema: 'nttable_se00' },
        { pv: world.ioc.pv('no-such-record'), protocol: Protocol.CA, schema: 'f144' },
      ]),
    );
    await world.sendCommand(Buffer.from('not a flatbuffer'));
    const after = await pollUntil(
      scrape,
      (text) =>
        (metricValue(text, 'forwarder_messages_rejected_total', { reason: 'unsupported' }) ?? 0) >
          beforeRejected('unsupported') &&
        (metricValue(text, 'forwarder_messages_rejected_total', { reason: 'timestamp' }) ?? 0) >
          beforeRejected('timestamp') &&
        metricValue(text, 'forwarder_config_commands_total', { outcome: 'rejected' }) === 1,
      'rejections',
    );
    assert.equal(metricValue(after, 'forwarder_config_commands_total', { outcome: 'accepted' }), 2);
    assert.equal(metricValue(after, 'forwarder_config_streams_skipped_total'), 1);
    assert.equal(metricValue(after, 'forwarder_messages_rejected_total', { reason: 'error' }), 0);
    assert.equal(metricValue(after, 'forwarder_streams', { state: 'never_connected' }), 1);
    assert.equal(metricValue(after, 'forwarder_streams', { state: 'connected' }), 5);
  });

  it('keeps totals when streams are removed', async () => {
    const before = await scrape();
    await world.sendCommand(
      serialiseFc00({
        configChange: UpdateType.REMOVE,
        streams: [
          {
            channel: world.ioc.pv('tick'),
            protocol: Protocol.CA,
            schema: 'f144',
            topic: world.topics.data,
            periodic: 0,
          },
        ],
      }),
    );
    const after = await pollUntil(
      scrape,
      (text) => metricValue(text, 'forwarder_streams', { state: 'connected' }) === 4,
      'the stream removed',
    );
    for (const name of ['forwarder_updates_received_total', 'forwarder_messages_forwarded_total']) {
      assert.ok((metricValue(after, name) ?? 0) >= (metricValue(before, name) ?? 0), name);
    }
  });

  it('is valid Prometheus text exposition', async () => {
    const parsed = await runPythonCode(
      [
        'import sys, json',
        'from prometheus_client.parser import text_string_to_metric_families',
        'print(json.dumps({f.name: f.type for f in text_string_to_metric_families(sys.stdin.read())}))',
      ].join('\n'),
      { input: await scrape(), timeoutMs: 20_000 },
    );
    const types = JSON.parse(parsed.stdout) as Record<string, string>;
    assert.equal(types['forwarder_updates_received'], 'counter');
    assert.equal(types['forwarder_streams'], 'gauge');
    assert.equal(types['forwarder_epics_to_produce_seconds'], 'histogram');
    assert.equal(types['forwarder_kafka_latency_seconds'], 'gauge');
    assert.equal(types['nodejs_eventloop_lag_seconds'], 'gauge');
  });

  it('lists every stream in /status.json with state, last update and counts', async () => {
    const document = await pollUntil(
      status,
      (value) =>
        value.streams.length === 5 && value.streams.some((stream) => stream.rejected.unsupported > 0),
      'five streams in status',
    );
    assert.equal(document.service.serviceId, serviceId);
    assert.match(document.service.version, /^\d+\.\d+\.\d+/);
    assert.ok(document.service.uptimeSeconds >= 0);
    assert.equal(document.health.status, 'ok');
    assert.equal(document.commands.rejected, 1);
    assert.ok(document.kafka['output']!.delivered > 0);
    // Streams needing attention come first.
    assert.equal(document.streams[0]!.state, 'never_connected');
    assert.equal(document.streams[0]!.pv, world.ioc.pv('no-such-record'));
    assert.equal(document.streams[0]!.lastUpdate, null);
    const sine = document.streams.find((stream) => stream.pv === world.ioc.pv('sine'))!;
    assert.deepEqual(
      { protocol: sine.protocol, topic: sine.topic, schema: sine.schema, state: sine.state },
      { protocol: 'pva', topic: world.topics.data, schema: 'f144', state: 'connected' },
    );
    assert.ok(sine.updates > 0 && sine.messages >= sine.updates);
    assert.ok(Date.now() - Date.parse(sine.lastUpdate!) < 10_000);
    const stringin = document.streams.find((stream) => stream.pv === world.ioc.pv('stringin'))!;
    assert.ok(stringin.rejected.unsupported > 0);
    // Healthy, but a PV never connected and two rejected on every update: degraded.
    assert.equal(document.overall, 'degraded');
    assert.deepEqual(document.problems, {
      disconnected: 0,
      never_connected: 1,
      rejecting: 2,
      delivery_failing: 0,
    });
    assert.deepEqual([stringin.problem, sine.problem], ['rejecting', null]);
    assert.match(stringin.reason ?? '', /string/);
    assert.match(sine.server ?? '', /^127\.0\.0\.1:\d+$/);
  });

  it('serves a self-contained status page that holds no data', async () => {
    const page = await httpGet(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.contentType, /^text\/html/);
    const policy = page.headers.get('content-security-policy') ?? '';
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'sha256-[A-Za-z0-9+/=]+';/);
    assert.doesNotMatch(page.body, /src=|href="http/);
    // The page holds no data (it draws status.json): the same few kilobytes whatever the streams.
    assert.ok(!page.body.includes(world.ioc.pv('sine')));
    assert.ok(page.body.length < 40_000, `${page.body.length} bytes`);
    // Small: sent as it is (status-page.test.ts has a large one compressed).
    const small = await httpGet(`${base}/status.json`);
    assert.equal(small.headers.get('content-encoding'), null);
    assert.equal(small.headers.get('vary'), 'Accept-Encoding');
  });

  it('shows every stream with its state in headless Chromium, PV names as text', async () => {
    const { rows, screenshot } = await renderInChromium(`${base}/`, 5);
    const state = (pv: string): string | undefined => rows.find((row) => row[0] === pv)?.[1];
    assert.equal(rows.length, 5);
    // The PV name reaches the browser as text, not markup.
    assert.equal(state(markupPv), 'connected');
    assert.equal(state(world.ioc.pv('sine')), 'connected');
    assert.equal(state(world.ioc.pv('no-such-record')), 'never connected');
    assert.equal(state(world.ioc.pv('stringin')), 'rejecting');
    const first = rows[0] ?? [];
    assert.deepEqual(
      [first[0], first[8], first[9], first[10]],
      [world.ioc.pv('no-such-record'), world.topics.data, 'f144', 'ca'],
    );
    const sine = rows.find((row) => row[0] === world.ioc.pv('sine'))!;
    assert.match(sine[5] ?? '', /^\d+ s ago$/);
    assert.match(sine[3] ?? '', /^-?\d+\.\d{3} V$/, 'the value with its precision and units');
    assert.match(sine[6] ?? '', /^127\.0\.0\.1:\d+$/, 'the server');
    assert.ok(Number(sine[11]) > 0);

    assert.deepEqual([...screenshot.subarray(1, 4)], [...Buffer.from('PNG')]);
    assert.equal(screenshot.readUInt32BE(16), 1280);
  });

  it('answers other paths and methods with 404 and 405', async () => {
    assert.equal((await httpGet(`${base}/nothing`)).status, 404);
    const post = await fetch(`${base}/metrics`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('sends the metrics to Carbon under the reference prefix, with the reference names', async () => {
    const prefix = `forwarder.${hostname().replace(/\./g, '_')}.${serviceId}`
      .toLowerCase()
      .replace(/\s/g, '');
    // The reference names come last in a batch: once the current stream count shows, the batch is in.
    await pollUntil(
      async () => carbon.latest(`${prefix}.pvs_subscribed`),
      (value) => value === 5,
      'pvs_subscribed on Carbon',
    );
    assert.ok((carbon.latest(`${prefix}.successful_sends`) ?? 0) > 0);
    assert.ok((carbon.latest(`${prefix}.updates_received`) ?? 0) > 0);
    assert.equal(carbon.latest(`${prefix}.streams.connected`), 4);
    assert.ok((carbon.latest(`${prefix}.epics_to_produce_seconds.count`) ?? 0) > 0);
    for (const line of carbon.lines) assert.match(line, /^[^ ]+ (-?[0-9.e+-]+|NaN) \d+$/);
    assert.ok(carbon.lines.every((line) => line.startsWith(`${prefix}.`)));
    const timestamp = Number(carbon.lines.at(-1)!.split(' ')[2]);
    assert.ok(Math.abs(timestamp - Date.now() / 1000) < 30);
  });

  it('says it is stopping while it shuts down', async () => {
    const seen: string[] = [];
    const exit = forwarder.stop('SIGTERM');
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        const reply = await httpGet(`${base}/healthz`, 2_000);
        seen.push(`${reply.status} ${(JSON.parse(reply.body) as { status: string }).status}`);
      } catch {
        break;
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 10));
    }
    assert.deepEqual((await exit).code, 0);
    assert.ok(seen.includes('503 stopping'), `health while stopping: ${seen.join(', ')}`);
  });
});

describe('forwarder HTTP listener while Kafka is unreachable', () => {
  it('serves health as starting (503) instead of refusing connections', async () => {
    const httpPort = await freePort();
    const nowhere = `127.0.0.1:${await freePort()}`;
    const waiting = ForwarderProcess.start([
      '--config-topic',
      `${nowhere}/commands`,
      '--status-topic',
      `${nowhere}/status`,
      '--output-broker',
      nowhere,
      '--http-address',
      `127.0.0.1:${httpPort}`,
    ]);
    try {
      await waiting.waitForOutput(/Serving metrics/, 30_000);
      const health = await httpGet(`http://127.0.0.1:${httpPort}/healthz`);
      assert.equal(health.status, 503);
      assert.deepEqual(JSON.parse(health.body), {
        healthy: false,
        status: 'starting',
        checks: { configConsumer: 'starting', outputProducer: 'starting' },
      });
      const metrics = await httpGet(`http://127.0.0.1:${httpPort}/metrics`);
      assert.equal(metricValue(metrics.body, 'forwarder_healthy'), 0);
    } finally {
      assert.ok(stoppedInStartUp(await waiting.stop('SIGTERM', 20_000)), waiting.output);
    }
  });

  it('ends with exit code 2 and one line when the HTTP address is taken or not on this host', async () => {
    const taken = await CarbonListener.start();
    try {
      for (const [address, reason] of [
        [
          `127.0.0.1:${taken.port}`,
          'EADDRINUSE \\(another program listens on that port; change --http-address\\)',
        ],
        // A documentation address (RFC 5737): never one of this host's, and binding to it sends nothing.
        [
          '192.0.2.10:8080',
          "EADDRNOTAVAIL \\(the address is not one of this host's; change --http-address\\)",
        ],
      ] as const) {
        const blocked = ForwarderProcess.start(world.standardArguments(['--http-address', address]));
        const exit = await blocked.exit(30_000);
        assert.equal(exit.code, 2, blocked.output);
        const errors = blocked.output.split('\n').filter((line) => / ERROR /.test(line));
        assert.equal(errors.length, 1, blocked.output);
        assert.match(
          errors[0] ?? '',
          new RegExp(`ERROR Fatal error: cannot serve HTTP on ${address.replaceAll('.', '\\.')}: ${reason}$`),
        );
        assert.doesNotMatch(blocked.output, /\n\s+at /, 'no stack trace');
      }
    } finally {
      await taken.close();
    }
  });
});
