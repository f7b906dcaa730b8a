/**
 * GELF 1.1 (Graylog Extended Log Format), sans I/O: the JSON payload of a log record, the UDP datagrams that
 * carry it (compressed and chunked when it does not fit in one), and the TCP frame. Sockets live in
 * gelf-transport.ts.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { compactJson, loggableValue } from './log-format.js';

export const GELF_VERSION = '1.1';

/** Syslog severities GELF uses for `level`, by winston (npm) level. */
export const GELF_SEVERITY: Readonly<Record<string, number>> = {
  error: 3,
  warn: 4,
  info: 6,
  http: 7,
  verbose: 7,
  debug: 7,
  silly: 7,
};
const DEFAULT_SEVERITY = 6;

/** The UDP datagram size Graylog guarantees to accept; bigger payloads are gzipped, then chunked. */
export const GELF_MAX_DATAGRAM_BYTES = 8192;
/** Chunk header: magic (2 bytes), message id (8), sequence number (1), sequence count (1). */
export const GELF_CHUNK_MAGIC: readonly [number, number] = [0x1e, 0x0f];
export const GELF_MESSAGE_ID_BYTES = 8;
export const GELF_CHUNK_HEADER_BYTES = 2 + GELF_MESSAGE_ID_BYTES + 2;
/** Graylog discards messages of more chunks than this. */
export const GELF_MAX_CHUNKS = 128;
/** GELF over TCP: each message is followed by a null byte (and therefore is never compressed). */
export const GELF_TCP_DELIMITER = 0;

/** `short_message` is the first line of the message up to this many characters; the rest goes to full_message. */
export const GELF_SHORT_MESSAGE_MAX_CHARS = 250;

/** What a GELF payload is made from. */
export interface GelfRecord {
  /** The GELF `host`: the machine the forwarder runs on. */
  readonly host: string;
  /** winston level name. */
  readonly level: string;
  /** Already redacted. */
  readonly message: string;
  /** ms since the epoch. */
  readonly timeMs: number;
  /** The caller's meta; becomes `_`-prefixed additional fields, with secrets hidden. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Fields every message of this process carries (`_service_id`, ...), names without the `_`; they win over meta. */
  readonly processFields: Readonly<Record<string, string | number>>;
}

/** Characters GELF allows in field names (`^[\w.-]*$`); others become `_`. */
const INVALID_FIELD_NAME_CHARS = /[^\w.-]/g;

/** The additional-field name of a meta key. GELF reserves `_id`, so a meta `id` becomes `_meta_id`. */
export function gelfFieldName(key: string): string {
  const name = `_${key.replace(INVALID_FIELD_NAME_CHARS, '_')}`;
  return name === '_id' ? '_meta_id' : name;
}

/** GELF additional fields are strings or numbers: structures become compact JSON. */
function gelfFieldValue(key: string, value: unknown): string | number | undefined {
  const loggable = loggableValue(key, value);
  if (typeof loggable === 'string') return loggable;
  if (typeof loggable === 'number') return Number.isFinite(loggable) ? loggable : String(loggable);
  return compactJson(loggable);
}

/** The GELF JSON object of a record. */
export function gelfPayload(record: GelfRecord): Record<string, string | number> {
  const newline = record.message.indexOf('\n');
  const firstLine = newline === -1 ? record.message : record.message.slice(0, newline);
  const shortMessage = firstLine.slice(0, GELF_SHORT_MESSAGE_MAX_CHARS);
  const payload: Record<string, string | number> = {
    version: GELF_VERSION,
    host: record.host,
    short_message: shortMessage,
    timestamp: record.timeMs / 1000,
    level: GELF_SEVERITY[record.level] ?? DEFAULT_SEVERITY,
  };
  if (shortMessage !== record.message) payload['full_message'] = record.message;
  if (record.meta !== undefined) {
    for (const [key, value] of Object.entries(record.meta)) {
      const fieldValue = gelfFieldValue(key, value);
      if (fieldValue !== undefined) payload[gelfFieldName(key)] = fieldValue;
    }
  }
  for (const [key, value] of Object.entries(record.processFields)) payload[gelfFieldName(key)] = value;
  return payload;
}

/** GELF JSON text of a record. */
export function encodeGelf(record: GelfRecord): string {
  return JSON.stringify(gelfPayload(record));
}

/**
 * Splits a payload into GELF chunks of at most `maxDatagramBytes` each, all tagged with `messageId` (8 bytes).
 * Undefined when that would take more than GELF_MAX_CHUNKS chunks (Graylog would drop the message).
 */
export function gelfChunks(
  payload: Uint8Array,
  messageId: Uint8Array,
  maxDatagramBytes: number = GELF_MAX_DATAGRAM_BYTES,
): Buffer[] | undefined {
  if (messageId.length !== GELF_MESSAGE_ID_BYTES) throw new RangeError('a GELF message id has 8 bytes');
  const dataBytes = maxDatagramBytes - GELF_CHUNK_HEADER_BYTES;
  if (dataBytes <= 0) throw new RangeError(`GELF datagrams must exceed ${GELF_CHUNK_HEADER_BYTES} bytes`);
  const count = Math.ceil(payload.length / dataBytes);
  if (count > GELF_MAX_CHUNKS) return undefined;
  const chunks: Buffer[] = [];
  for (let sequence = 0; sequence < count; sequence++) {
    const data = payload.subarray(sequence * dataBytes, (sequence + 1) * dataBytes);
    const chunk = Buffer.allocUnsafe(GELF_CHUNK_HEADER_BYTES + data.length);
    chunk[0] = GELF_CHUNK_MAGIC[0];
    chunk[1] = GELF_CHUNK_MAGIC[1];
    chunk.set(messageId, 2);
    chunk[2 + GELF_MESSAGE_ID_BYTES] = sequence;
    chunk[3 + GELF_MESSAGE_ID_BYTES] = count;
    chunk.set(data, GELF_CHUNK_HEADER_BYTES);
    chunks.push(chunk);
  }
  return chunks;
}

/**
 * The UDP datagrams of a GELF JSON text: one plain datagram when it fits (the usual case, no compression cost);
 * otherwise gzipped and, if still too big, chunked under a random message id. Undefined when even that exceeds
 * GELF_MAX_CHUNKS.
 */
export function gelfUdpDatagrams(
  json: string,
  maxDatagramBytes: number = GELF_MAX_DATAGRAM_BYTES,
): Buffer[] | undefined {
  const plain = Buffer.from(json, 'utf8');
  if (plain.length <= maxDatagramBytes) return [plain];
  const compressed = gzipSync(plain);
  if (compressed.length <= maxDatagramBytes) return [compressed];
  return gelfChunks(compressed, randomBytes(GELF_MESSAGE_ID_BYTES), maxDatagramBytes);
}

/** The TCP frame of a GELF JSON text (JSON escapes NUL in strings, so the delimiter is unambiguous). */
export function gelfTcpFrame(json: string): Buffer {
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(length + 1);
  frame.write(json, 0, 'utf8');
  frame[length] = GELF_TCP_DELIMITER;
  return frame;
}
