/**
 * One spooled message on disk, without I/O. A record is a 12-byte header, then its body:
 *
 *   u32 magic 0x5350_4C31 ("SPL1"), u32 body length, u32 CRC-32 of the body   (little-endian)
 *   body: f64 Kafka timestamp (ms), u16 topic length, topic (UTF-8), u16 key length (0xFFFF: no key), key, payload
 *
 * The magic lets a reader find the next record after a corrupted one; the checksum tells a record that is whole
 * from one a power cut tore or a disk corrupted.
 */
import { crc32Of } from './crc32.js';

export const RECORD_MAGIC = 0x53504c31;
export const HEADER_BYTES = 12;
/** A body longer than this is taken for corruption: no Kafka message of the forwarder comes near it. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;
const NO_KEY = 0xffff;
/** The magic as it is on disk, for searching. */
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(RECORD_MAGIC);

export interface SpooledMessage {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly payload: Buffer;
  readonly timestampMs: number;
}

/**
 * A forwarder writes and reads back runs of records of one topic: the last topic written is not measured again,
 * and the last topic read is not decoded again, for each record.
 */
let writtenTopic = '';
let writtenTopicBytes = 0;
let readTopic = '';
let readTopicBytes: Buffer = Buffer.alloc(0);

function topicByteLength(topic: string): number {
  if (topic !== writtenTopic) {
    writtenTopic = topic;
    writtenTopicBytes = Buffer.byteLength(topic);
  }
  return writtenTopicBytes;
}

/** The topic whose UTF-8 bytes are `source[start, end)`. */
function topicAt(source: Buffer, start: number, end: number): string {
  const known = readTopicBytes;
  if (end - start === known.length) {
    let at = 0;
    while (at < known.length && source[start + at] === known[at]) at++;
    if (at === known.length) return readTopic;
  }
  readTopic = source.toString('utf8', start, end);
  readTopicBytes = Buffer.from(source.subarray(start, end));
  return readTopic;
}

/** The size of a message's record. */
export function recordSize(topic: string, key: Buffer | null, payload: Uint8Array): number {
  return HEADER_BYTES + 8 + 2 + topicByteLength(topic) + 2 + (key?.length ?? 0) + payload.length;
}

/** Writes a message's record at `offset` of `target` (which must have recordSize() bytes there); returns its end. */
export function encodeRecord(
  target: Buffer,
  offset: number,
  topic: string,
  key: Buffer | null,
  payload: Uint8Array,
  timestampMs: number,
): number {
  const bodyStart = offset + HEADER_BYTES;
  let at = target.writeDoubleLE(timestampMs, bodyStart);
  const topicBytes = target.write(topic, at + 2, 'utf8');
  target.writeUInt16LE(topicBytes, at);
  at += 2 + topicBytes;
  if (key === null) {
    at = target.writeUInt16LE(NO_KEY, at);
  } else {
    at = target.writeUInt16LE(key.length, at);
    at += key.copy(target, at);
  }
  target.set(payload, at);
  const end = at + payload.length;
  target.writeUInt32LE(RECORD_MAGIC, offset);
  target.writeUInt32LE(end - bodyStart, offset + 4);
  target.writeUInt32LE(crc32Of(target, bodyStart, end), offset + 8);
  return end;
}

/** What decodeRecord found at an offset. */
export type RecordAt =
  /** A whole, intact record ending at `end`. */
  | { readonly kind: 'record'; readonly message: SpooledMessage; readonly end: number }
  /** The bytes end inside a record (or its header): a torn tail, or more to read. */
  | { readonly kind: 'incomplete' }
  /** Not a record: a wrong magic, an absurd length, a checksum or layout that does not match. */
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Decodes the record at `offset`. The message's key and payload are views of `source`. */
export function decodeRecord(source: Buffer, offset: number): RecordAt {
  if (source.length - offset < HEADER_BYTES) return { kind: 'incomplete' };
  if (source.readUInt32LE(offset) !== RECORD_MAGIC) return { kind: 'corrupt', reason: 'no record header' };
  const length = source.readUInt32LE(offset + 4);
  if (length < 8 + 2 + 2 || length > MAX_BODY_BYTES) {
    return { kind: 'corrupt', reason: `record length ${length} out of range` };
  }
  const bodyStart = offset + HEADER_BYTES;
  const end = bodyStart + length;
  if (end > source.length) return { kind: 'incomplete' };
  if (crc32Of(source, bodyStart, end) !== source.readUInt32LE(offset + 8))
    return { kind: 'corrupt', reason: 'checksum mismatch' };
  const timestampMs = source.readDoubleLE(bodyStart);
  const topicStart = bodyStart + 10;
  const keyAt = topicStart + source.readUInt16LE(bodyStart + 8);
  if (keyAt + 2 > end) return { kind: 'corrupt', reason: 'topic runs past the record' };
  const topic = topicAt(source, topicStart, keyAt);
  const keyLength = source.readUInt16LE(keyAt);
  const payloadAt = keyAt + 2 + (keyLength === NO_KEY ? 0 : keyLength);
  if (payloadAt > end) return { kind: 'corrupt', reason: 'key runs past the record' };
  const key = keyLength === NO_KEY ? null : source.subarray(keyAt + 2, payloadAt);
  return {
    kind: 'record',
    message: { topic, key, payload: source.subarray(payloadAt, end), timestampMs },
    end,
  };
}

/** The offset of the next record header at or after `from`, or -1: where a reader resumes after corruption. */
export function findNextHeader(source: Buffer, from: number): number {
  return source.indexOf(MAGIC_BYTES, from);
}
