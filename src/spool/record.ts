/**
 * One spooled message on disk, without I/O. A record is a 12-byte header, then its body:
 *
 *   u32 magic 0x5350_4C31 ("SPL1"), u32 body length, u32 CRC-32 of the body   (little-endian)
 *   body: f64 Kafka timestamp (ms), u16 topic length, topic (UTF-8), u16 key length (0xFFFF: no key), key, payload
 *
 * The magic lets a reader find the next record after a corrupted one; the checksum tells a record that is whole
 * from one a power cut tore or a disk corrupted.
 */
import { crc32 } from 'node:zlib';

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

/** The size of a message's record. */
export function recordSize(topic: string, key: Buffer | null, payload: Uint8Array): number {
  return HEADER_BYTES + 8 + 2 + Buffer.byteLength(topic) + 2 + (key?.length ?? 0) + payload.length;
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
  target.writeUInt32LE(crc32(target.subarray(bodyStart, end)), offset + 8);
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
  const body = source.subarray(bodyStart, end);
  if (crc32(body) !== source.readUInt32LE(offset + 8))
    return { kind: 'corrupt', reason: 'checksum mismatch' };
  const timestampMs = body.readDoubleLE(0);
  const topicLength = body.readUInt16LE(8);
  const keyAt = 10 + topicLength;
  if (keyAt + 2 > body.length) return { kind: 'corrupt', reason: 'topic runs past the record' };
  const topic = body.toString('utf8', 10, keyAt);
  const keyLength = body.readUInt16LE(keyAt);
  const payloadAt = keyAt + 2 + (keyLength === NO_KEY ? 0 : keyLength);
  if (payloadAt > body.length) return { kind: 'corrupt', reason: 'key runs past the record' };
  const key = keyLength === NO_KEY ? null : body.subarray(keyAt + 2, payloadAt);
  return { kind: 'record', message: { topic, key, payload: body.subarray(payloadAt), timestampMs }, end };
}

/** The offset of the next record header at or after `from`, or -1: where a reader resumes after corruption. */
export function findNextHeader(source: Buffer, from: number): number {
  return source.indexOf(MAGIC_BYTES, from);
}
