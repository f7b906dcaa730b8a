/**
 * Area-detector images end to end: NTNDArrays of every element type, of one, two and three dimensions, served by
 * a p4p server, forwarded over PVA as ad00 and da00; the Python reference deserialisers read each message back to
 * the shape, type, values, unique id, timestamp and attributes the server reports it sent. A frame too large for
 * its topic, and one too large for the producer, are refused with a clear reason on their own stream, counted in
 * /status.json, while the other image streams go on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import { NUMERIC_TYPES } from '../../../src/schemas/numeric.js';
import type { ForwarderProcess } from '../../support/forwarder.js';
import { waitForStatus } from '../../support/forwarded.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { createTopics, uniqueTopic } from '../../support/kafka.js';
import { type ImageDtype, NtNdArrayServer, type SentFrame } from '../../support/ntndarray-server.js';
import { freePort } from '../../support/ports.js';
import { runPython } from '../../support/python.js';
import type { ReadMessage } from '../../support/topic-reader.js';
import { httpGet, pollUntil } from '../operability/scrape.js';

const world = ForwarderWorld.setUp({ ioc: false, extraTopics: ['da00'] });
/** Takes messages of at most 100 kB: a 512x512 uint16 frame (512 kB) is refused by the broker. */
const smallTopic = uniqueTopic('small');
/** The forwarder's producer takes messages of at most 2 MB here. */
const PRODUCER_LIMIT = 2_000_000;

const DTYPES: readonly ImageDtype[] = [...NUMERIC_TYPES, 'bool'];
/** numpy shapes (slowest-varying first): NTNDArray lists them the other way round. */
const SHAPES: readonly (readonly number[])[] = [[7], [3, 4], [2, 3, 4]];

/**
 * What the reference deserialisers read from ad00 and da00 messages, in the form the server reports what it
 * sent: numbers as strings (integers in decimal, floats as Python's repr).
 */
const READ_BACK = `
import base64, json, sys
import numpy as np
from streaming_data_types import area_detector_ad00, dataarray_da00
from streaming_data_types.utils import get_schema

def plain(value):
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value

def image(data, unique_id, timestamp_ns, attributes):
    return {"shape": list(data.shape), "dtype": data.dtype.name,
            "data": [plain(item) for item in data.flatten().tolist()],
            "unique_id": plain(unique_id), "timestamp_ns": plain(timestamp_ns), "attributes": attributes}

out = []
for line in sys.stdin:
    buffer = base64.b64decode(line)
    if get_schema(buffer) == "ad00":
        m = area_detector_ad00.deserialise_ad00(buffer)
        attributes = {a.name: plain(a.data) for a in m.attributes}
        out.append(image(m.data, m.unique_id, m.timestamp_ns, attributes))
    else:
        m = dataarray_da00.deserialise_da00(buffer)
        variables = {v.name: v for v in m.data}
        signal = variables.pop("signal")
        assert len(signal.axes) == signal.data.ndim, signal.axes
        unique_id = variables.pop("unique_id").data
        attributes = {name: plain(v.data) for name, v in variables.items()}
        out.append(image(signal.data, unique_id, m.timestamp_ns, attributes))
print(json.dumps(out))
`;

async function readBack(messages: readonly ReadMessage[]): Promise<SentFrame[]> {
  const input = messages.map((message) => message.payload.toString('base64')).join('\n');
  const { stdout } = await runPython(['-c', READ_BACK], { input, timeoutMs: 60_000 });
  return JSON.parse(stdout) as SentFrame[];
}

interface StatusStream {
  pv: string;
  topic: string;
  schema: string;
  messages: number;
  deliveryFailures?: { count: number; lastReason: string };
}

describe('forwarder: NTNDArray images as ad00 and da00 over PVA', { timeout: 180_000 }, () => {
  let server: NtNdArrayServer;
  let forwarder: ForwarderProcess;
  let statusUrl: string;
  const sent: SentFrame[] = [];
  /** The image PV's messages of a schema (its topic has its al00 and ep01 messages too). */
  const images = (schema: 'ad00' | 'da00'): ReadMessage[] =>
    world.reader
      .of(schema === 'ad00' ? world.topics.data : world.extraTopic('da00'))
      .filter((message) => message.key === server.pv('image') && message.decoded?.schema === schema);
  const statusStreams = async (): Promise<StatusStream[]> =>
    (JSON.parse((await httpGet(statusUrl)).body) as { streams: StatusStream[] }).streams;

  before(async () => {
    server = await NtNdArrayServer.start(['image', 'refused', 'huge']);
    await createTopics(world.kafkaConfig, [smallTopic], 1, { 'max.message.bytes': '100000' });
    const httpPort = await freePort();
    statusUrl = `http://127.0.0.1:${httpPort}/status.json`;
    forwarder = await world.startForwarder(
      world.standardArguments([
        '--http-address',
        `127.0.0.1:${httpPort}`,
        '--kafka-config',
        `message.max.bytes=${PRODUCER_LIMIT}`,
      ]),
      server.clientEnv,
    );
    const since = world.reader.of(world.topics.status).length;
    const stream = (channel: string, schema: string, topic: string) => ({
      channel,
      schema,
      topic,
      protocol: Protocol.PVA,
      periodic: 0,
    });
    const streams = [
      stream(server.pv('image'), 'ad00', world.topics.data),
      stream(server.pv('image'), 'da00', world.extraTopic('da00')),
      stream(server.pv('refused'), 'ad00', smallTopic),
      stream(server.pv('huge'), 'ad00', world.topics.data),
    ];
    await world.sendCommand(serialiseFc00({ configChange: UpdateType.ADD, streams }));
    await waitForStatus(
      world,
      since,
      (s) => s.length === streams.length && s.every((entry) => entry.connection === 'connected'),
      'every image stream connected',
    );
    // The server's first frame (2x2 zeros) arrives on connecting; then one frame per type and shape, each
    // waited for, so that no update is squashed into the next.
    await world.reader.waitFor(world.extraTopic('da00'), () => images('da00').length >= 1, 20_000);
    let uniqueId = 0;
    // Later than the first frame's time, which the timestamp filter would otherwise hold against them.
    const timestampNs = BigInt(Date.now()) * 1_000_000n + 123_456n;
    for (const dtype of DTYPES) {
      for (const shape of SHAPES) {
        uniqueId++;
        sent.push(await server.post({ dtype, shape, uniqueId, timestampNs: timestampNs + BigInt(uniqueId) }));
        const count = uniqueId + 1;
        await world.reader.waitFor(world.topics.data, () => images('ad00').length >= count, 20_000);
        await world.reader.waitFor(world.extraTopic('da00'), () => images('da00').length >= count, 20_000);
      }
    }
  });

  after(async () => {
    await server?.stop();
  });

  it('sends every frame as ad00 that the reference reads back as sent, Kafka-stamped with its time', async () => {
    const messages = images('ad00').slice(1);
    assert.equal(messages.length, sent.length);
    assert.deepEqual(await readBack(messages), sent);
    messages.forEach((message, i) => {
      assert.equal(message.timestampMs, Number(BigInt(sent[i]?.timestamp_ns ?? 0) / 1_000_000n));
    });
  });

  it('sends every frame as da00 that the reference reads back as sent', async () => {
    const messages = images('da00').slice(1);
    assert.equal(messages.length, sent.length);
    assert.deepEqual(await readBack(messages), sent);
  });

  it('refuses frames too large for the topic or the producer on their own streams, the others going on', async () => {
    const now = (): bigint => BigInt(Date.now()) * 1_000_000n;
    await server.post({ dtype: 'uint16', shape: [512, 512], uniqueId: 1, timestampNs: now(), pv: 'refused' });
    await server.post({ dtype: 'uint8', shape: [1600, 2000], uniqueId: 1, timestampNs: now(), pv: 'huge' });
    const streams = await pollUntil(
      statusStreams,
      (list) =>
        list.filter((entry) => entry.pv !== server.pv('image') && entry.deliveryFailures !== undefined)
          .length === 2,
      'both oversized streams to show delivery failures',
      30_000,
    );
    const failures = (pv: string) => streams.find((entry) => entry.pv === server.pv(pv))?.deliveryFailures;
    assert.match(failures('refused')?.lastReason ?? '', /too large/i);
    assert.match(
      failures('huge')?.lastReason ?? '',
      new RegExp(
        `^message of 32\\d{5} bytes is larger than the producer's message\\.max\\.bytes \\(${PRODUCER_LIMIT}\\)$`,
      ),
    );
    for (const entry of streams.filter((stream) => stream.pv === server.pv('image'))) {
      assert.equal(entry.deliveryFailures, undefined);
    }
    await forwarder.waitForOutput(/larger than the producer's message\.max\.bytes/, 10_000);
    // The image streams still forward.
    const before = images('ad00').length;
    await server.post({ dtype: 'uint16', shape: [4, 4], uniqueId: 999, timestampNs: now() });
    await world.reader.waitFor(world.topics.data, () => images('ad00').length > before, 20_000);
  });
});
