/**
 * The Graphite export against a Carbon server that is not there yet, then appears, then goes away again: the
 * forwarder's side never throws or waits, says so in the log, and delivers once the server listens.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { it } from 'node:test';
import { CarbonReporter } from '../../../src/observability/carbon.js';
import type { Logger } from '../../../src/logging/logger.js';
import type { MetricSnapshot } from '../../../src/observability/metrics.js';
import { freePort } from '../../support/ports.js';
import { CarbonListener, pollUntil } from './scrape.js';

function recordingLogger(lines: string[]): Logger {
  const record = (message: string): void => {
    lines.push(message);
  };
  return { error: record, warn: record, info: record, debug: record };
}

const families: MetricSnapshot[] = [
  { name: 'forwarder_updates_received_total', help: '', type: 'counter', samples: [{ value: 42 }] },
];

it('drops batches while Carbon is unreachable and delivers once it listens', async (t) => {
  const port = await freePort();
  const log: string[] = [];
  const reporter = new CarbonReporter({
    address: { host: '127.0.0.1', port },
    intervalMs: 3_600_000,
    prefix: 'forwarder.test.svc',
    collect: async () => families,
    logger: recordingLogger(log),
  });
  reporter.start();
  t.after(() => reporter.close());

  const started = Date.now();
  await reporter.report();
  await pollUntil(
    async () => log.slice(),
    (lines) => lines.some((line) => line.startsWith(`Could not send statistics to 127.0.0.1:${port}: `)),
    'the refusal logged',
    5_000,
  );
  assert.ok(Date.now() - started < 5_000);
  // Repeated failures are not logged again within the minute.
  await reporter.report();
  await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  assert.equal(log.length, 1);

  const carbon = await CarbonListener.start(port);
  t.after(() => carbon.close());
  await reporter.report();
  await pollUntil(
    async () => carbon.latest('forwarder.test.svc.updates_received'),
    (value) => value === 42,
    'the batch on Carbon',
    5_000,
  );
});

it('does not block on a Carbon server that accepts but never reads', async (t) => {
  const server = createServer(() => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const big: MetricSnapshot[] = [
    {
      name: 'forwarder_stream_updates_total',
      help: '',
      type: 'counter',
      samples: Array.from({ length: 20_000 }, (_, index) => ({
        labels: { pv: `SIM:PV${index}` },
        value: index,
      })),
    },
  ];
  const log: string[] = [];
  const reporter = new CarbonReporter({
    address: { host: '127.0.0.1', port: address.port },
    intervalMs: 3_600_000,
    prefix: 'forwarder.test.svc',
    collect: async () => big,
    logger: recordingLogger(log),
  });
  reporter.start();
  t.after(() => reporter.close());
  // Each batch is about 1 MB; the socket stops taking them once a few are buffered, and none of this waits.
  const started = Date.now();
  for (let batch = 0; batch < 12; batch++) {
    await reporter.report();
    await new Promise((resolveWait) => setTimeout(resolveWait, 20));
  }
  assert.ok(Date.now() - started < 10_000);
  assert.ok(
    log.some((line) => line.includes('is not reading; dropping this batch')),
    log.join('\n'),
  );
});
