/**
 * forwarder-ctl with a running forwarder: a fake-protocol stream added with the tool is forwarded (as `tail` shows,
 * in JSON and as text), shows in `status`, is saved to the storage topic as `stored` shows, and goes away with
 * `remove`; with --wait, add and remove return once the status shows their effect, and say when it does not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ForwarderProcess } from '../../support/forwarder.js';
import type { KafkaBrokerInfo } from '../../support/kafka-broker.js';
import { clientConfig, createTopics, testBroker, uniqueTopic } from '../../support/kafka.js';
import { jsonLines, runCtl } from './ctl-process.js';

interface StatusDocument {
  instances: {
    serviceId: string;
    streams: { channel_name: string; protocol: string; connection?: string }[];
  }[];
}

let broker: KafkaBrokerInfo;
let forwarder: ForwarderProcess | undefined;
const serviceId = `ctl-test-${process.pid}`;
const topics = {
  config: uniqueTopic('ctl-daemon-config'),
  status: uniqueTopic('ctl-daemon-status'),
  storage: uniqueTopic('ctl-daemon-storage'),
  data: uniqueTopic('ctl-daemon-data'),
  /** A status topic nobody writes to: --wait gives up on it. */
  silent: uniqueTopic('ctl-daemon-silent'),
};

before(async () => {
  broker = await testBroker();
  await createTopics(clientConfig(broker, { listener: 'PLAINTEXT' }), Object.values(topics));
  const uri = (topic = ''): string => `${broker.listeners.PLAINTEXT}${topic ? `/${topic}` : ''}`;
  forwarder = ForwarderProcess.start([
    '--config-topic',
    uri(topics.config),
    '--status-topic',
    uri(topics.status),
    '--output-broker',
    uri(),
    '--storage-topic',
    uri(topics.storage),
    '--skip-retrieval',
    '--status-interval',
    '1000',
    '--fake-pv-period',
    '200',
    '--service-id',
    serviceId,
  ]);
  await forwarder.waitForOutput(/Listening for commands/, 60_000);
});

after(async () => {
  await forwarder?.stop('SIGKILL');
});

// A full test run keeps both cores busy: allow the tool a minute before calling it hung.
const ctl = (topic: string, ...args: string[]) =>
  runCtl(['--broker', `${broker.listeners.PLAINTEXT}/${topic}`, ...args], { timeoutMs: 60_000 });

type Streams = StatusDocument['instances'][number]['streams'];

/** Polls `status --json` until this forwarder's streams satisfy `predicate`. */
async function statusUntil(predicate: (streams: Streams) => boolean): Promise<Streams> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    const result = await ctl(topics.status, 'status', '--json', '--since', '5');
    assert.equal(result.code, 0, result.stderr);
    last = result.stdout;
    const mine = (JSON.parse(result.stdout) as StatusDocument).instances.find(
      (each) => each.serviceId === serviceId,
    );
    if (mine !== undefined && predicate(mine.streams)) return mine.streams;
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
  }
  throw new Error(`status never showed the expected streams; last status: ${last}`);
}

/** Sends a command with forwarder-ctl and waits until status shows its effect. */
async function sendAndSee(
  args: readonly string[],
  predicate: (streams: Streams) => boolean,
): Promise<Streams> {
  const sent = await ctl(topics.config, ...args);
  assert.equal(sent.code, 0, sent.stderr);
  return statusUntil(predicate);
}

describe('forwarder-ctl with a running forwarder', () => {
  it('adds a fake stream that is forwarded, reported in status and stored; remove takes it away', async () => {
    const streams = await sendAndSee(['add', 'CTL:FAKE', 'fake', topics.data, 'f144', '--periodic'], (each) =>
      each.some((stream) => stream.connection === 'connected'),
    );
    assert.deepEqual(
      streams.map((stream) => [stream.channel_name, stream.protocol, stream.connection]),
      [['CTL:FAKE', 'FAKE', 'connected']],
    );
    const table = await ctl(topics.status, 'status');
    assert.match(
      table.stdout,
      new RegExp(
        `^${serviceId} on .*: running, .*1 stream\\n.*\\n {2}CTL:FAKE +FAKE +${topics.data} +f144 +yes +connected\\n`,
      ),
    );

    // `tail` follows the live topic the forwarder keeps writing to.
    const data = await ctl(topics.data, 'tail', '--from-beginning', '--max', '2', '--source', 'CTL:*');
    assert.equal(data.code, 0, data.stderr);
    const lines = jsonLines(data.stdout) as {
      key: string;
      schema: string;
      message: { sourceName: string };
    }[];
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.equal(line.key, 'CTL:FAKE');
      assert.equal(line.message.sourceName, 'CTL:FAKE');
    }
    // The same messages as text, a line each: time, schema, PV, then the value, the alarm or the connection state.
    const text = await ctl(topics.data, 'tail', '--from-beginning', '--max', '3', '--format', 'text');
    assert.equal(text.code, 0, text.stderr);
    const textLines = text.stdout.trimEnd().split('\n');
    assert.equal(textLines.length, 3, text.stdout);
    for (const line of textLines) {
      assert.match(
        line,
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} {2}(f144 {2}CTL:FAKE {2}-?\d+|al00 {2}CTL:FAKE {2}alarm \w+|ep01 {2}CTL:FAKE {2}connection \w+)$/,
      );
    }
    assert.ok(
      textLines.some((line) => / f144 /.test(line)),
      'a value among them',
    );
    const live = await ctl(topics.data, 'tail', '--max', '3');
    assert.equal(live.code, 0, live.stderr);
    assert.equal(jsonLines(live.stdout).length, 3, 'messages sent after tail started');

    const stored = await ctl(topics.storage, 'stored', '--json');
    assert.equal(stored.code, 0, stored.stderr);
    assert.deepEqual(JSON.parse(stored.stdout), [
      { pv: 'CTL:FAKE', protocol: 'fake', topic: topics.data, schema: 'f144', periodic: true },
    ]);

    await sendAndSee(['remove', 'CTL:*'], (each) => each.length === 0);
  });

  it('waits with --wait until the status shows an ADD and a REMOVE, and says when it does not', async () => {
    const wait = ['--wait', '--status-topic', topics.status];
    const listed = async (): Promise<string[]> => {
      const result = await ctl(topics.status, 'status', '--json', '--since', '5');
      const mine = (JSON.parse(result.stdout) as StatusDocument).instances.find(
        (each) => each.serviceId === serviceId,
      );
      return (mine?.streams ?? []).map((stream) => stream.channel_name);
    };
    const added = await ctl(topics.config, 'add', 'CTL:WAIT', 'fake', topics.data, 'f144', ...wait);
    assert.equal(added.code, 0, added.stderr);
    assert.match(
      added.stdout,
      /^Sent ADD of 1 stream to .*\nThe forwarders' status shows it after \d+\.\d s\.\n$/,
    );
    // Once it returned, status lists the stream at the first look.
    assert.deepEqual(await listed(), ['CTL:WAIT']);

    const removed = await ctl(topics.config, 'remove', 'CTL:W*', ...wait);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^Sent REMOVE of 1 pattern to .*\nThe forwarders' status shows it after /);
    assert.deepEqual(await listed(), []);

    const unseen = await ctl(
      topics.config,
      'add',
      'CTL:UNSEEN',
      'fake',
      topics.data,
      'f144',
      '--wait',
      '--status-topic',
      topics.silent,
      '--wait-timeout',
      '3',
    );
    assert.equal(unseen.code, 1, unseen.stderr);
    assert.match(
      unseen.stderr,
      /the forwarders' status on .* did not show the ADD within [3-9]\.\d s: no forwarder sent its status since the command/,
    );
    const usage = await ctl(topics.config, 'add', 'CTL:UNSEEN', 'fake', topics.data, 'f144', '--wait');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--wait needs --status-topic/);
    await sendAndSee(['remove', 'CTL:*'], (each) => each.length === 0);
  });
});
