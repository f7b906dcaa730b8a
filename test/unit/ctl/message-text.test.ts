import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tailLine } from '../../../src/ctl/commands/tail.js';
import { localTimeText, messageText } from '../../../src/ctl/message-text.js';
import { deserialiseAny, serialiseFc00, serialiseF144, UpdateType } from '../../../src/schemas/index.js';
import { sampleMessages } from './sample-messages.js';

/** What `tail --format text` prints after the time, per sample message (by schema and source). */
const EXPECTED: Readonly<Record<string, string>> = {
  'f144 SIM:DOUBLE': 'f144  SIM:DOUBLE  NaN',
  'f144 SIM:LONGS': 'f144  SIM:LONGS  [-9223372036854775808, 4611686018427387904]',
  'f142 SIM:STRING': 'f142  SIM:STRING  "hello"  MAJOR HIHI',
  'al00 SIM:ALARM': 'al00  SIM:ALARM  alarm MINOR HIGH',
  'ep01 SIM:CONNECTION': 'ep01  SIM:CONNECTION  connection DISCONNECTED',
  'tdct SIM:CHOPPER': 'tdct  SIM:CHOPPER  2 timestamps',
  'se00 SIM:TABLE': 'se00  SIM:TABLE  2 samples [1.5, -Infinity]',
  'senv SIM:OLDTABLE': 'senv  SIM:OLDTABLE  2 samples [1, 65535]',
  'x5f2 forwarder-7': 'x5f2  forwarder-7  status of host-a pid 4242: {"streams": []}',
  'fc00 SIM:COMMANDED': 'fc00  SIM:COMMANDED  REPLACE 1 stream',
  'rf5k SIM:LEGACY': 'rf5k  SIM:LEGACY  REMOVE 1 stream',
  'ad00 CAM:image': 'ad00  CAM:image  image 512×512 uint16, frame 9, 524288 bytes',
  'da00 CAM:image': 'da00  CAM:image  signal 10×10 (100 bytes), unique_id 1 (4 bytes)',
};

const EPICS_NS = 1_700_000_000_123_456_789n;
const KAFKA_MS = 1_700_000_000_000;

describe('messages as text', () => {
  it('writes the time as camonitor does: local time to the microsecond', () => {
    const local = new Date(2026, 11, 7, 3, 4, 5, 678);
    assert.equal(
      localTimeText(BigInt(local.getTime()) * 1_000_000n + 901_234n),
      '2026-12-07 03:04:05.678901',
    );
    // Before 1970 the fraction still counts up from the second.
    const early = new Date(1969, 11, 31, 23, 59, 59, 250);
    assert.equal(localTimeText(BigInt(early.getTime()) * 1_000_000n), '1969-12-31 23:59:59.250000');
  });

  for (const sample of sampleMessages) {
    it(`writes ${sample.schema} (${sample.source}) as time, schema, PV and what it says`, () => {
      const decoded = deserialiseAny(sample.bytes);
      const line = messageText(decoded, KAFKA_MS);
      // Messages with an EPICS time show it; commands and status show Kafka's.
      const time = ['x5f2', 'fc00', 'rf5k'].includes(sample.schema)
        ? localTimeText(BigInt(KAFKA_MS) * 1_000_000n)
        : localTimeText((decoded.message as { timestampNs?: bigint }).timestampNs ?? EPICS_NS);
      assert.equal(line, `${time}  ${EXPECTED[`${sample.schema} ${sample.source}`]}`);
    });
  }

  it('cuts long arrays to a line, saying how long they are, and names every stream of a command', () => {
    const values = Float64Array.from({ length: 1000 }, (_, index) => index);
    const array = serialiseF144({
      sourceName: 'SIM:WAVE',
      timestampNs: EPICS_NS,
      value: { kind: 'array', type: 'float64', value: values },
    });
    const line = messageText(deserialiseAny(array), undefined);
    assert.match(line, /f144 {2}SIM:WAVE {2}\[0, 1, 2, .*, … \(1000\)\]$/);
    assert.ok(line.length < 140, line);
    const removeAll = serialiseFc00({ configChange: UpdateType.REMOVEALL, streams: [] });
    assert.match(messageText(deserialiseAny(removeAll), KAFKA_MS), / {2}fc00 {2}- {2}REMOVEALL 0 streams$/);
  });

  it('says when bytes are no ESS message, and tail --format text prints one line per message', () => {
    const junk = tailLine(
      { partition: 0, offset: 1, timestamp: KAFKA_MS, value: Buffer.from('junk bytes') },
      undefined,
      'text',
    );
    assert.match(
      junk ?? '',
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000000 {2}\? .*not an ESS message: no schema .*\n$/,
    );
    const sample = sampleMessages[0];
    assert.ok(sample);
    const line = tailLine({ partition: 0, offset: 2, value: Buffer.from(sample.bytes) }, undefined, 'text');
    assert.equal(line, `${localTimeText(EPICS_NS)}  ${EXPECTED[`${sample.schema} ${sample.source}`]}\n`);
  });
});
