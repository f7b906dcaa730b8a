/**
 * forwarder-ctl's readers against the real broker: tail decodes every schema, filters and follows; status shows
 * the forwarders of x5f2 messages produced here; stored finds the newest valid stream set, walking back over junk.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { storedStreamsMessage } from '../../../src/storage/store.js';
import { serialiseX5f2, type X5f2Message } from '../../../src/schemas/index.js';
import type { KafkaBrokerInfo } from '../../support/kafka-broker.js';
import {
  clientConfig,
  createTopics,
  produceMessages,
  type TestMessage,
  testBroker,
  uniqueTopic,
} from '../../support/kafka.js';
import { sampleMessages } from '../../unit/ctl/sample-messages.js';
import { CtlProcess, jsonLines, runCtl } from './ctl-process.js';

let broker: KafkaBrokerInfo;

before(async () => {
  broker = await testBroker();
});

const plaintext = (): Record<string, string> => clientConfig(broker, { listener: 'PLAINTEXT' });

async function topicWith(stem: string, messages: readonly TestMessage[], partitions = 1): Promise<string> {
  const topic = uniqueTopic(stem);
  await createTopics(plaintext(), [topic], partitions);
  if (messages.length > 0) await produceMessages(plaintext(), topic, messages);
  return topic;
}

const brokerArgs = (topic = ''): string[] => [
  '--broker',
  `${broker.listeners.PLAINTEXT}${topic ? `/${topic}` : ''}`,
];

describe('forwarder-ctl tail', () => {
  it('decodes every ESS schema to one JSON line each, and reports junk', async () => {
    const topic = await topicWith('ctl-tail', [
      ...sampleMessages.map((sample) => ({ key: sample.source, value: Buffer.from(sample.bytes) })),
      { value: Buffer.from('junk') },
    ]);
    const result = await runCtl([...brokerArgs(), 'tail', topic, '--from-beginning', '--no-follow']);
    assert.equal(result.code, 0, result.stderr);
    const lines = jsonLines(result.stdout) as Record<string, unknown>[];
    assert.equal(lines.length, sampleMessages.length + 1);
    sampleMessages.forEach((sample, index) => {
      const line = lines[index];
      assert.equal(line?.['schema'], sample.schema);
      assert.equal(line?.['key'], sample.source);
      assert.equal(line?.['offset'], index);
      assert.equal(typeof line?.['timestamp'], 'number');
      assert.deepEqual(line?.['message'], sample.json);
    });
    assert.deepEqual(lines.at(-1), {
      partition: 0,
      offset: sampleMessages.length,
      timestamp: lines.at(-1)?.['timestamp'],
      key: null,
      error: 'buffer of 4 bytes has no file identifier',
      size: 4,
    });
  });

  it('filters by source name with wildcards and stops after --max messages', async () => {
    const topic = await topicWith(
      'ctl-tail-filter',
      sampleMessages.map((sample) => ({ value: Buffer.from(sample.bytes) })),
    );
    const filtered = await runCtl([
      ...brokerArgs(topic),
      'tail',
      '--from-beginning',
      '--no-follow',
      '--source',
      'SIM:C*',
    ]);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.deepEqual(
      jsonLines(filtered.stdout).map((line) => (line as { schema: string }).schema),
      ['ep01', 'tdct', 'fc00'],
    );
    const limited = await runCtl([...brokerArgs(topic), 'tail', '--from-beginning', '--max', '2']);
    assert.equal(limited.code, 0, limited.stderr);
    assert.equal(jsonLines(limited.stdout).length, 2);
  });

  it('follows new messages on every partition until interrupted, then exits 0', async () => {
    const topic = await topicWith(
      'ctl-tail-follow',
      [{ value: Buffer.from(sampleMessages[0]?.bytes ?? []) }],
      3,
    );
    const tail = CtlProcess.start([...brokerArgs(topic), 'tail']);
    const fresh = sampleMessages.filter((sample) => sample.schema === 'al00' || sample.schema === 'ep01');
    // The tail starts at the end of each partition once it is connected: send until it shows what it gets.
    const sender = setInterval(() => {
      void produceMessages(
        plaintext(),
        topic,
        fresh.map((sample) => ({ key: sample.source, value: Buffer.from(sample.bytes) })),
      ).catch(() => undefined); // a failed send shows as missing output
    }, 1_000);
    try {
      await tail.waitForOutput(/ep01[\s\S]*\n.*al00|al00[\s\S]*\n.*ep01/, 30_000);
    } finally {
      clearInterval(sender);
      tail.child.kill('SIGINT');
    }
    const result = await tail.exit(10_000);
    assert.equal(result.code, 0, result.stderr);
    const schemas = new Set(jsonLines(result.stdout).map((line) => (line as { schema: string }).schema));
    // Nothing old (the f144 sent before the tail started) is printed.
    assert.deepEqual([...schemas].sort(), ['al00', 'ep01']);
  });
});

describe('forwarder-ctl status', () => {
  const status = (overrides: Partial<X5f2Message>): Buffer =>
    Buffer.from(
      serialiseX5f2({
        softwareName: 'Forwarder',
        softwareVersion: '0.1.0',
        serviceId: 'fwd-a',
        hostName: 'host-1',
        processId: 11,
        // Long, so that a slow test run still sees these forwarders running.
        updateIntervalMs: 60_000,
        statusJson: '{"streams": []}',
        ...overrides,
      }),
    );
  const streamsJson = (names: string[]): string =>
    `{"streams": [${names
      .map(
        (name) =>
          `{"channel_name": "${name}", "protocol": "CA", "output_topic": "data", "schema": "f144", "periodic": false, "connection": "connected"}`,
      )
      .join(', ')}]}`;

  it('prints each instance with its newest streams, as JSON and as a table', async () => {
    const now = Date.now();
    const topic = await topicWith('ctl-status', [
      { value: status({ statusJson: streamsJson(['OLD:PV']) }), timestamp: String(now - 3_000) },
      { value: status({ statusJson: streamsJson(['SIM:A', 'SIM:B']) }), timestamp: String(now - 1_000) },
      // The reference's layout, without periodic and connection, and a reference version.
      {
        value: status({
          serviceId: 'reference',
          hostName: 'host-2',
          softwareVersion: '2.1.0',
          statusJson:
            '{"streams": [{"channel_name": "REF:PV", "protocol": "PVA", "output_topic": "data", "schema": "f142"}]}',
        }),
        timestamp: String(now - 2_000),
      },
      // Long gone: outside --since.
      { value: status({ serviceId: 'ancient' }), timestamp: String(now - 3_600_000) },
      // Other things on the topic are skipped.
      { value: Buffer.from(sampleMessages[0]?.bytes ?? []) },
    ]);
    const json = await runCtl([...brokerArgs(topic), 'status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const document = JSON.parse(json.stdout) as {
      topic: string;
      instances: {
        serviceId: string;
        hostName: string;
        state: string;
        softwareVersion: string;
        streams: { channel_name: string }[];
      }[];
    };
    assert.equal(document.topic, topic);
    assert.deepEqual(
      document.instances.map((instance) => [
        instance.serviceId,
        instance.hostName,
        instance.softwareVersion,
        instance.state,
        instance.streams.map((stream) => stream.channel_name),
      ]),
      [
        ['fwd-a', 'host-1', '0.1.0', 'running', ['SIM:A', 'SIM:B']],
        ['reference', 'host-2', '2.1.0', 'running', ['REF:PV']],
      ],
    );

    const table = await runCtl([...brokerArgs(), 'status', topic]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^fwd-a on host-1 \(pid 11\), Forwarder 0\.1\.0: running, last seen .* ago\), 2 streams\n/,
    );
    assert.match(
      table.stdout,
      /\n {2}PV +PROTOCOL +TOPIC +SCHEMA +PERIODIC +CONNECTION\n {2}SIM:A +CA +data +f144 +no +connected\n/,
    );
    assert.match(table.stdout, /\nreference on host-2 .*\n.*\n {2}REF:PV +PVA +data +f142 +- +-\n$/);

    const longer = await runCtl([...brokerArgs(topic), 'status', '--json', '--since', '7200']);
    assert.deepEqual(
      (JSON.parse(longer.stdout) as typeof document).instances.map((instance) => [
        instance.serviceId,
        instance.state,
      ]),
      [
        ['ancient', 'silent'],
        ['fwd-a', 'running'],
        ['reference', 'running'],
      ],
    );
  });

  it('says so when no forwarder reported', async () => {
    const topic = await topicWith('ctl-status-empty', []);
    const result = await runCtl([...brokerArgs(topic), 'status']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `No forwarder status on ${topic} in the last 60 s.\n`);
  });

  it('--watch prints a fresh view every interval until interrupted', async () => {
    const topic = await topicWith('ctl-status-watch', [{ value: status({}) }]);
    const watch = CtlProcess.start([
      ...brokerArgs(topic),
      'status',
      '--watch',
      '--json',
      '--interval',
      '0.5',
    ]);
    try {
      await watch.waitForOutput(/fwd-a/);
      await produceMessages(plaintext(), topic, [{ value: status({ serviceId: 'fwd-b' }) }]);
      await watch.waitForOutput(/fwd-b/);
    } finally {
      watch.child.kill('SIGINT');
    }
    const result = await watch.exit(10_000);
    assert.equal(result.code, 0, result.stderr);
    const views = jsonLines(result.stdout) as { instances: { serviceId: string }[] }[];
    assert.deepEqual(
      views[0]?.instances.map((instance) => instance.serviceId),
      ['fwd-a'],
    );
    assert.deepEqual(
      views.at(-1)?.instances.map((instance) => instance.serviceId),
      ['fwd-a', 'fwd-b'],
    );
  });
});

describe('forwarder-ctl stored', () => {
  const streams = [
    { pvName: 'SIM:A', protocol: 'ca', topic: 'data', schema: 'f144', periodic: true },
    { pvName: 'SIM:B', protocol: 'pva', topic: 'data', schema: 'nttable_se00', periodic: false },
  ] as const;

  it('prints the newest valid stored stream set, walking back over junk', async () => {
    const topic = await topicWith('ctl-stored', [
      { value: Buffer.from(storedStreamsMessage([streams[1]])) },
      { value: Buffer.from(storedStreamsMessage([...streams])) },
      { value: Buffer.from('junk') },
      { value: Buffer.from(sampleMessages[0]?.bytes ?? []) },
    ]);
    const json = await runCtl([...brokerArgs(topic), 'stored', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [
      { pv: 'SIM:A', protocol: 'ca', topic: 'data', schema: 'f144', periodic: true },
      { pv: 'SIM:B', protocol: 'pva', topic: 'data', schema: 'nttable_se00', periodic: false },
    ]);
    assert.match(
      json.stderr,
      /warning: Skipping message at offset 3 .*\n.*warning: Skipping message at offset 2/,
    );

    const table = await runCtl([...brokerArgs(), 'stored', topic]);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(
      table.stdout,
      [
        'PV     PROTOCOL  TOPIC  SCHEMA        PERIODIC',
        'SIM:A  CA        data   f144          yes',
        'SIM:B  PVA       data   nttable_se00  no',
        '',
      ].join('\n'),
    );
  });

  it('tells an empty stored set from none at all', async () => {
    const empty = await topicWith('ctl-stored-empty', [{ value: Buffer.from(storedStreamsMessage([])) }]);
    const emptySet = await runCtl([...brokerArgs(empty), 'stored']);
    assert.equal(emptySet.code, 0, emptySet.stderr);
    assert.equal(emptySet.stdout, `The stream set stored on ${empty} is empty.\n`);

    const none = await topicWith('ctl-stored-none', [{ value: Buffer.from('junk') }]);
    const noSet = await runCtl([...brokerArgs(none), 'stored']);
    assert.equal(noSet.code, 1);
    assert.match(noSet.stderr, new RegExp(`forwarder-ctl: no stored stream set on ${none}\\n$`));
  });
});
