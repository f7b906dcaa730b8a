/**
 * Where the launcher's settings come from, end to end: a forwarder configured only by a config file, one only by
 * environment variables, and one where wrong values in the file are overridden by the environment and the
 * command line. Each forwards a fake stream (updates every 100 ms, so a default or wrong period shows) added by an
 * fc00 command, and reports status under the service id it was given.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { addFakeStreams, onlyOptionVariables, waitForF144, waitForStatus } from './launch.js';

const fromFile = ForwarderWorld.setUp({ ioc: false });
const fromEnvironment = ForwarderWorld.setUp({ ioc: false });
const layered = ForwarderWorld.setUp({ ioc: false });

const dir = mkdtempSync(join(tmpdir(), 'ekf-config-sources-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeConfigFile(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** At 100 ms a fake PV sends ten updates in about a second; at the default 1000 ms they take nine seconds. */
const FAKE_PERIOD_MS = 100;
const UPDATES = 10;

/**
 * Adds a fake stream and checks that it is forwarded at the fast period, and that the status report lists it
 * under `serviceId`.
 */
async function assertForwardsFakeStream(
  world: ForwarderWorld,
  pvName: string,
  serviceId: string,
): Promise<void> {
  await world.sendCommand(addFakeStreams(world, [pvName]));
  const report = await waitForStatus(world, (r) => r.streams.some((s) => s.channel_name === pvName));
  assert.equal(report.message.serviceId, serviceId);
  const listed = report.streams.map(({ channel_name, protocol, output_topic, schema }) => ({
    channel_name,
    protocol,
    output_topic,
    schema,
  }));
  assert.deepEqual(listed, [
    { channel_name: pvName, protocol: 'FAKE', output_topic: world.topics.data, schema: 'f144' },
  ]);
  const updates = (await waitForF144(world, pvName, UPDATES)).slice(0, UPDATES);
  // Fake updates carry whole wall-clock seconds, so the span of ten at 100 ms is one or two seconds.
  const spanMs = Number((updates.at(-1)!.timestampNs - updates[0]!.timestampNs) / 1_000_000n);
  assert.ok(
    spanMs <= 4000,
    `${UPDATES} updates spanned ${spanMs} ms: the fake period was not ${FAKE_PERIOD_MS} ms`,
  );
  for (const update of updates) assert.equal(update.sourceName, pvName);
}

describe(
  'launcher settings from a config file, the environment, and both with the command line',
  { concurrency: 3 },
  () => {
    it('runs from a config file alone', async () => {
      const world = fromFile;
      const configFile = writeConfigFile('file-only.conf', [
        '# Every setting of this forwarder; nothing on the command line or in the environment.',
        '[forwarder]',
        `config-topic = ${world.uri(world.topics.config)}`,
        `status-topic: ${world.uri(world.topics.status)}`,
        `output-broker ${world.uri()}`,
        `storage-topic = "${world.uri(world.topics.storage)}"`,
        'skip-retrieval',
        `fake-pv-period = ${FAKE_PERIOD_MS}  # fast, so that the test is`,
        'status-interval = 500',
        'service-id = from-file',
        'verbosity = Debug',
      ]);
      await world.startForwarder(['-c', configFile], onlyOptionVariables());
      await assertForwardsFakeStream(world, 'FAKE:FROM:FILE', 'from-file');
    });

    it('runs from environment variables alone', async () => {
      const world = fromEnvironment;
      await world.startForwarder(
        [],
        onlyOptionVariables({
          CONFIG_TOPIC: world.uri(world.topics.config),
          STATUS_TOPIC: world.uri(world.topics.status),
          OUTPUT_BROKER: world.uri(),
          STORAGE_TOPIC: world.uri(world.topics.storage),
          SKIP_RETRIEVAL: 'true',
          FAKE_PV_PERIOD: String(FAKE_PERIOD_MS),
          STATUS_INTERVAL: '500',
          SERVICE_ID: 'from-environment',
          VERBOSITY: 'Info',
        }),
      );
      await assertForwardsFakeStream(world, 'FAKE:FROM:ENVIRONMENT', 'from-environment');
    });

    it('takes the environment over the file and the command line over both', async () => {
      const world = layered;
      // Each of these would show: an output broker nobody listens on never connects, so the forwarder never
      // listens for commands; Error verbosity hides the line the test waits for; a fake period of a minute sends
      // nothing within the test; a wrong status topic or service id fails the status check.
      const configFile = writeConfigFile('layered.conf', [
        `config-topic = ${world.uri(world.topics.config)}`,
        `status-topic = ${world.uri('not-the-status-topic')}`,
        'output-broker = 127.0.0.1:1',
        'verbosity = Error',
        'fake-pv-period = 60000',
        'status-interval = 500',
        'service-id = from-file',
      ]);
      await world.startForwarder(
        ['--status-topic', world.uri(world.topics.status), '--service-id', 'from-command-line'],
        onlyOptionVariables({
          CONFIG_FILE: configFile,
          OUTPUT_BROKER: world.uri(),
          VERBOSITY: 'Info',
          FAKE_PV_PERIOD: String(FAKE_PERIOD_MS),
          SERVICE_ID: 'from-environment',
        }),
      );
      await assertForwardsFakeStream(world, 'FAKE:LAYERED', 'from-command-line');
    });
  },
);
