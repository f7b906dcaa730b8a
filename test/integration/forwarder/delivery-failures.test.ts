/**
 * A stream whose messages Kafka refuses says so: a topic that takes messages of at most 40 bytes refuses every f144
 * of a fake PV; /status.json shows, on that stream alone, the count and the broker's reason, and the log line names
 * the PV and the topic. A stream on another topic keeps forwarding.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import type { ForwarderProcess } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { createTopics, uniqueTopic } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { httpGet, pollUntil } from '../operability/scrape.js';

const world = ForwarderWorld.setUp({ ioc: false });
const tinyTopic = uniqueTopic('tiny');
let forwarder: ForwarderProcess;
let base: string;

interface StatusStream {
  pv: string;
  topic: string;
  messages: number;
  deliveryFailures?: { count: number; lastReason: string; last: string };
  problem: string | null;
  reason: string | null;
}

interface StatusDocument {
  overall: string;
  streams: StatusStream[];
}

const statusDocument = async (): Promise<StatusDocument> =>
  JSON.parse((await httpGet(`${base}/status.json`)).body) as StatusDocument;
const streams = async (): Promise<StatusStream[]> => (await statusDocument()).streams;

describe('delivery failures of a stream', () => {
  before(async () => {
    await createTopics(world.kafkaConfig, [tinyTopic], 1, { 'max.message.bytes': '40' });
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    forwarder = await world.startForwarder(
      world.standardArguments([
        '--skip-retrieval',
        '--http-address',
        `127.0.0.1:${httpPort}`,
        '--fake-pv-period',
        '100',
      ]),
    );
    await world.sendCommand(
      serialiseFc00({
        configChange: UpdateType.ADD,
        streams: [
          { channel: 'SIM:REFUSED', protocol: Protocol.FAKE, schema: 'f144', topic: tinyTopic, periodic: 0 },
          {
            channel: 'SIM:FINE',
            protocol: Protocol.FAKE,
            schema: 'f144',
            topic: world.topics.data,
            periodic: 0,
          },
        ],
      }),
    );
  });

  after(async () => {
    await forwarder?.stop();
  });

  it('shows the refused stream with the broker’s reason, names it in the log, and leaves the other stream be', async () => {
    const refused = (
      await pollUntil(
        streams,
        (list) => list.some((stream) => stream.pv === 'SIM:REFUSED' && stream.deliveryFailures !== undefined),
        'the refused stream to show delivery failures',
        30_000,
      )
    ).find((stream) => stream.pv === 'SIM:REFUSED') as StatusStream;
    assert.match(refused.deliveryFailures?.lastReason ?? '', /too large/i);
    assert.ok((refused.deliveryFailures?.count ?? 0) >= 1);
    const fine = (await streams()).find((stream) => stream.pv === 'SIM:FINE');
    assert.equal(fine?.deliveryFailures, undefined);
    assert.ok((fine?.messages ?? 0) > 0);
    await forwarder.waitForOutput(
      new RegExp(`failed delivery \\(PV SIM:REFUSED, topic ${tinyTopic}\\)`),
      10_000,
    );
    await world.reader.waitFor(
      world.topics.data,
      (messages) => messages.filter((message) => message.key?.toString() === 'SIM:FINE').length >= 3,
      20_000,
    );
  });

  it('gives the refused stream the state "delivery failing" with the reason, and the forwarder the state degraded', async () => {
    const document = await pollUntil(
      statusDocument,
      (doc) =>
        doc.streams.some((stream) => stream.pv === 'SIM:REFUSED' && stream.problem === 'delivery_failing'),
      'the refused stream to be delivery failing',
      10_000,
    );
    const refused = document.streams.find((stream) => stream.pv === 'SIM:REFUSED') as StatusStream;
    assert.match(refused.reason ?? '', /too large/i);
    assert.equal(document.streams.find((stream) => stream.pv === 'SIM:FINE')?.problem, null);
    assert.equal(document.overall, 'degraded');
  });
});
