import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  encodeGelf,
  GELF_CHUNK_HEADER_BYTES,
  GELF_MAX_CHUNKS,
  GELF_MAX_DATAGRAM_BYTES,
  gelfChunks,
  gelfFieldName,
  gelfPayload,
  type GelfRecord,
  gelfTcpFrame,
  gelfUdpDatagrams,
} from '../../../src/logging/gelf.js';
import { parseGraylogAddress } from '../../../src/logging/gelf-transport.js';
import { REDACTED } from '../../../src/logging/log-format.js';

/** Deterministic pseudo-random base64 text (xorshift32), which gzip cannot shrink much. */
function incompressibleText(bytes: number): string {
  const data = Buffer.alloc(bytes);
  let state = 0x9e3779b9;
  for (let i = 0; i < bytes; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = state & 0xff;
  }
  return data.toString('base64');
}

const base: GelfRecord = {
  host: 'daq-01',
  level: 'info',
  message: 'Stream added',
  timeMs: 1_738_324_800_123,
  processFields: { service_id: 'fwd-1', logger: 'forwarder' },
};

describe('gelfPayload', () => {
  it('has the GELF 1.1 fields, timestamp in seconds, and the process fields', () => {
    assert.deepEqual(gelfPayload(base), {
      version: '1.1',
      host: 'daq-01',
      short_message: 'Stream added',
      timestamp: 1_738_324_800.123,
      level: 6,
      _service_id: 'fwd-1',
      _logger: 'forwarder',
    });
  });
  it('maps winston levels to syslog severities', () => {
    const severity = (level: string): unknown => gelfPayload({ ...base, level })['level'];
    assert.deepEqual(['error', 'warn', 'info', 'debug'].map(severity), [3, 4, 6, 7]);
  });
  it('keeps the first line (at most 250 characters) as short_message and all of it as full_message', () => {
    const multiLine = gelfPayload({ ...base, message: 'Failed\n  at frame 1\n  at frame 2' });
    assert.equal(multiLine['short_message'], 'Failed');
    assert.equal(multiLine['full_message'], 'Failed\n  at frame 1\n  at frame 2');
    const long = 'x'.repeat(300);
    const longPayload = gelfPayload({ ...base, message: long });
    assert.equal(longPayload['short_message'], 'x'.repeat(250));
    assert.equal(longPayload['full_message'], long);
    assert.equal(gelfPayload(base)['full_message'], undefined);
  });
  it('turns meta into _-prefixed string or number fields, secrets hidden', () => {
    const payload = gelfPayload({
      ...base,
      meta: {
        pv: 'SIM:ai',
        count: 3,
        ratio: Number.NaN,
        ok: true,
        nothing: undefined,
        empty: null,
        config: { brokers: 'b:9092', 'sasl.password': 'p' },
        'sasl.password': 'p',
        error: new Error('broker down'),
        big: 12n,
      },
    });
    assert.deepEqual(payload, {
      ...gelfPayload(base),
      _pv: 'SIM:ai',
      _count: 3,
      _ratio: 'NaN',
      _ok: 'true',
      _empty: 'null',
      _config: `{"brokers":"b:9092","sasl.password":"${REDACTED}"}`,
      '_sasl.password': REDACTED,
      _error: 'broker down',
      _big: '12',
    });
  });
  it('does not let meta override the process fields', () => {
    const payload = gelfPayload({ ...base, meta: { service_id: 'other', logger: 'other' } });
    assert.equal(payload['_service_id'], 'fwd-1');
    assert.equal(payload['_logger'], 'forwarder');
  });
  it('encodes as JSON', () => assert.deepEqual(JSON.parse(encodeGelf(base)), gelfPayload(base)));
});

describe('gelfFieldName', () => {
  it('prefixes _, replaces characters GELF forbids, and avoids the reserved _id', () => {
    assert.equal(gelfFieldName('pv'), '_pv');
    assert.equal(gelfFieldName('sasl.mechanism'), '_sasl.mechanism');
    assert.equal(gelfFieldName('output topic/x'), '_output_topic_x');
    assert.equal(gelfFieldName('id'), '_meta_id');
    assert.match(gelfFieldName('ä:b'), /^_[\w.-]*$/);
  });
});

describe('gelfChunks', () => {
  const id = Buffer.from('0102030405060708', 'hex');

  function checkChunks(chunks: Buffer[], payload: Buffer, maxDatagram: number): void {
    chunks.forEach((chunk, sequence) => {
      assert.ok(chunk.length <= maxDatagram);
      assert.deepEqual(
        [...chunk.subarray(0, 12)],
        [0x1e, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, sequence, chunks.length],
      );
    });
    assert.deepEqual(Buffer.concat(chunks.map((chunk) => chunk.subarray(GELF_CHUNK_HEADER_BYTES))), payload);
  }

  it('splits a payload into full chunks and a remainder, each with the 12-byte header', () => {
    const payload = Buffer.from(Array.from({ length: 250 }, (_, i) => i));
    const chunks = gelfChunks(payload, id, 100) ?? [];
    assert.deepEqual(
      chunks.map((chunk) => chunk.length),
      [100, 100, 86],
    );
    checkChunks(chunks, payload, 100);
  });
  it('has exactly one chunk per full datagram at the boundary', () => {
    assert.equal(gelfChunks(Buffer.alloc(88 * 3), id, 100)?.length, 3);
    assert.equal(gelfChunks(Buffer.alloc(88 * 3 + 1), id, 100)?.length, 4);
  });
  it('accepts 128 chunks and refuses 129', () => {
    const data = GELF_MAX_DATAGRAM_BYTES - GELF_CHUNK_HEADER_BYTES;
    const largest = Buffer.alloc(data * GELF_MAX_CHUNKS, 7);
    const chunks = gelfChunks(largest, id) ?? [];
    assert.equal(chunks.length, 128);
    checkChunks(chunks, largest, GELF_MAX_DATAGRAM_BYTES);
    assert.equal(gelfChunks(Buffer.alloc(data * GELF_MAX_CHUNKS + 1), id), undefined);
  });
  it('requires an 8-byte message id', () => {
    assert.throws(() => gelfChunks(Buffer.alloc(10), Buffer.alloc(4), 100), RangeError);
  });
});

describe('gelfUdpDatagrams', () => {
  it('sends a payload that fits as one plain datagram', () => {
    const json = encodeGelf(base);
    assert.deepEqual(gelfUdpDatagrams(json), [Buffer.from(json)]);
    const exactlyFull = JSON.stringify({ m: 'x'.repeat(GELF_MAX_DATAGRAM_BYTES - 8) });
    assert.equal(Buffer.byteLength(exactlyFull), GELF_MAX_DATAGRAM_BYTES);
    assert.deepEqual(gelfUdpDatagrams(exactlyFull), [Buffer.from(exactlyFull)]);
  });
  it('gzips a larger payload, in one datagram when the result fits', () => {
    const json = encodeGelf({ ...base, message: 'repetitive '.repeat(2000) });
    const datagrams = gelfUdpDatagrams(json) ?? [];
    assert.equal(datagrams.length, 1);
    assert.equal(gunzipSync(datagrams[0] ?? Buffer.alloc(0)).toString(), json);
  });
  it('chunks a gzipped payload that still does not fit, under one random message id', () => {
    const json = encodeGelf({ ...base, message: incompressibleText(30_000) });
    const datagrams = gelfUdpDatagrams(json) ?? [];
    assert.ok(datagrams.length > 1);
    const ids = new Set(datagrams.map((datagram) => datagram.subarray(2, 10).toString('hex')));
    assert.equal(ids.size, 1);
    const payload = Buffer.concat(datagrams.map((datagram) => datagram.subarray(GELF_CHUNK_HEADER_BYTES)));
    assert.equal(gunzipSync(payload).toString(), json);
  });
});

describe('gelfTcpFrame', () => {
  it('ends the UTF-8 JSON with one null byte, the only one in the frame', () => {
    const json = encodeGelf({ ...base, message: 'µs\u0000end' });
    const frame = gelfTcpFrame(json);
    assert.equal(frame.indexOf(0), frame.length - 1);
    assert.equal(frame.subarray(0, -1).toString('utf8'), json);
  });
});

describe('parseGraylogAddress', () => {
  it('reads host:port as UDP, and udp:/tcp: prefixes', () => {
    assert.deepEqual(parseGraylogAddress('graylog.example:12201'), {
      host: 'graylog.example',
      port: 12201,
      protocol: 'udp',
    });
    assert.deepEqual(parseGraylogAddress('tcp:10.0.0.5:12201'), {
      host: '10.0.0.5',
      port: 12201,
      protocol: 'tcp',
    });
    assert.deepEqual(parseGraylogAddress('UDP:localhost:1'), { host: 'localhost', port: 1, protocol: 'udp' });
    assert.deepEqual(parseGraylogAddress('tcp:[::1]:12201'), { host: '::1', port: 12201, protocol: 'tcp' });
  });
  for (const bad of [
    'graylog',
    'graylog:',
    ':12201',
    'graylog:0',
    'graylog:65536',
    'http:graylog:1',
    'a:b:1',
    '::1:1',
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseGraylogAddress(bad), RangeError));
  }
});
