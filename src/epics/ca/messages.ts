/**
 * Channel Access message codec: headers (standard 16 bytes and extended 24 bytes), the requests a subscribing
 * client sends, datagram splitting and the ERROR payload. Pure functions over Buffers, no I/O.
 *
 * Header: u16 command, u16 payloadSize, u16 dataType, u16 count, u32 p1, u32 p2, big-endian. When payloadSize
 * is 0xFFFF an extended header follows with u32 payloadSize, u32 count (used whenever either does not fit 16 bits).
 */
import {
  CA_MINOR_VERSION,
  Command,
  EXTENDED_HEADER_SIZE,
  EXTENDED_MARKER,
  HEADER_SIZE,
  SearchReplyFlag,
  VERSION_SEQUENCE_VALID,
} from './constants.js';

/** A frame from a server that breaks the protocol. The circuit that received it is closed. */
export class CaProtocolError extends Error {
  override readonly name = 'CaProtocolError';
}

export interface MessageHeader {
  command: number;
  /** Bytes after the header, padding included. */
  payloadSize: number;
  dataType: number;
  count: number;
  p1: number;
  p2: number;
  /** 16 or 24. */
  headerSize: number;
}

export interface Message {
  readonly header: MessageHeader;
  readonly payload: Buffer;
}

export function emptyHeader(): MessageHeader {
  return { command: 0, payloadSize: 0, dataType: 0, count: 0, p1: 0, p2: 0, headerSize: HEADER_SIZE };
}

/**
 * Reads the header at `offset` into `out`. Returns false when `buffer` does not yet hold the whole header (16
 * bytes, or 24 for an extended one).
 */
export function readHeader(buffer: Buffer, offset: number, out: MessageHeader): boolean {
  if (buffer.length - offset < HEADER_SIZE) return false;
  const payloadSize = buffer.readUInt16BE(offset + 2);
  out.command = buffer.readUInt16BE(offset);
  out.dataType = buffer.readUInt16BE(offset + 4);
  out.p1 = buffer.readUInt32BE(offset + 8);
  out.p2 = buffer.readUInt32BE(offset + 12);
  if (payloadSize === EXTENDED_MARKER) {
    if (buffer.length - offset < EXTENDED_HEADER_SIZE) return false;
    out.payloadSize = buffer.readUInt32BE(offset + 16);
    out.count = buffer.readUInt32BE(offset + 20);
    out.headerSize = EXTENDED_HEADER_SIZE;
  } else {
    out.payloadSize = payloadSize;
    out.count = buffer.readUInt16BE(offset + 6);
    out.headerSize = HEADER_SIZE;
  }
  return true;
}

/** Size of the header needed for this payload size and count. */
export function headerSizeFor(payloadSize: number, count: number): number {
  return payloadSize >= EXTENDED_MARKER || count >= EXTENDED_MARKER ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
}

/** Writes a standard or extended header (whichever the sizes need) and returns the bytes written. */
export function writeHeader(
  target: Buffer,
  offset: number,
  command: number,
  payloadSize: number,
  dataType: number,
  count: number,
  p1: number,
  p2: number,
): number {
  const extended = headerSizeFor(payloadSize, count) === EXTENDED_HEADER_SIZE;
  target.writeUInt16BE(command, offset);
  target.writeUInt16BE(extended ? EXTENDED_MARKER : payloadSize, offset + 2);
  target.writeUInt16BE(dataType, offset + 4);
  target.writeUInt16BE(extended ? 0 : count, offset + 6);
  target.writeUInt32BE(p1 >>> 0, offset + 8);
  target.writeUInt32BE(p2 >>> 0, offset + 12);
  if (!extended) return HEADER_SIZE;
  target.writeUInt32BE(payloadSize, offset + 16);
  target.writeUInt32BE(count, offset + 20);
  return EXTENDED_HEADER_SIZE;
}

/** Rounds up to the 8-byte alignment of CA payloads. */
export function padded(size: number): number {
  return (size + 7) & ~7;
}

/** A NUL-terminated string padded to a multiple of 8 (an 8-character name takes 16 bytes). */
export function encodeString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(padded(bytes.length + 1));
  bytes.copy(out);
  return out;
}

/** One message; the payload is zero-padded to a multiple of 8. */
export function encodeMessage(
  command: number,
  dataType: number,
  count: number,
  p1: number,
  p2: number,
  payload?: Uint8Array,
): Buffer {
  const payloadSize = payload ? padded(payload.length) : 0;
  const headerSize = headerSizeFor(payloadSize, count);
  const out = Buffer.alloc(headerSize + payloadSize);
  writeHeader(out, 0, command, payloadSize, dataType, count, p1, p2);
  if (payload) out.set(payload, headerSize);
  return out;
}

/** TCP VERSION opening a circuit. */
export function encodeVersion(priority: number): Buffer {
  return encodeMessage(Command.VERSION, priority, CA_MINOR_VERSION, 0, 0);
}

/** UDP VERSION leading each search datagram, carrying its sequence number. */
export function encodeSearchVersion(sequence: number): Buffer {
  return encodeMessage(Command.VERSION, VERSION_SEQUENCE_VALID, CA_MINOR_VERSION, sequence, 0);
}

export function encodeSearch(
  cid: number,
  name: string,
  replyFlag: number = SearchReplyFlag.DONT_REPLY,
): Buffer {
  return encodeMessage(Command.SEARCH, replyFlag, CA_MINOR_VERSION, cid, cid, encodeString(name));
}

export function encodeClientName(user: string): Buffer {
  return encodeMessage(Command.CLIENT_NAME, 0, 0, 0, 0, encodeString(user));
}

export function encodeHostName(host: string): Buffer {
  return encodeMessage(Command.HOST_NAME, 0, 0, 0, 0, encodeString(host));
}

export function encodeCreateChannel(cid: number, name: string): Buffer {
  return encodeMessage(Command.CREATE_CHAN, 0, 0, cid, CA_MINOR_VERSION, encodeString(name));
}

/** EVENT_ADD: the 16-byte payload holds three unused f32 (low, high, to), the u16 mask and a pad. */
export function encodeEventAdd(
  sid: number,
  subId: number,
  dbrType: number,
  count: number,
  mask: number,
): Buffer {
  const payload = Buffer.alloc(16);
  payload.writeUInt16BE(mask, 12);
  return encodeMessage(Command.EVENT_ADD, dbrType, count, sid, subId, payload);
}

/** EVENT_CANCEL repeats the ADD's type and count (truncated to 16 bits, as servers ignore it). */
export function encodeEventCancel(sid: number, subId: number, dbrType: number, count: number): Buffer {
  return encodeMessage(Command.EVENT_CANCEL, dbrType, count & 0xffff, sid, subId);
}

export function encodeClearChannel(sid: number, cid: number): Buffer {
  return encodeMessage(Command.CLEAR_CHANNEL, 0, 0, sid, cid);
}

export function encodeReadNotify(sid: number, ioid: number, dbrType: number, count: number): Buffer {
  return encodeMessage(Command.READ_NOTIFY, dbrType, count, sid, ioid);
}

export function encodeEcho(): Buffer {
  return encodeMessage(Command.ECHO, 0, 0, 0, 0);
}

/** REPEATER_REGISTER carrying the client's IPv4 address (normally 127.0.0.1). */
export function encodeRepeaterRegister(ipv4: number): Buffer {
  return encodeMessage(Command.REPEATER_REGISTER, 0, 0, 0, ipv4);
}

/**
 * Splits a datagram into its messages (they are never split across datagrams). Throws CaProtocolError when the
 * last message is cut short.
 */
export function decodeDatagram(datagram: Buffer): Message[] {
  const messages: Message[] = [];
  let offset = 0;
  while (offset < datagram.length) {
    const header = emptyHeader();
    if (!readHeader(datagram, offset, header))
      throw new CaProtocolError('datagram ends inside a message header');
    const start = offset + header.headerSize;
    const end = start + header.payloadSize;
    if (end > datagram.length) throw new CaProtocolError('datagram ends inside a message payload');
    messages.push({ header, payload: datagram.subarray(start, end) });
    offset = end;
  }
  return messages;
}

/** The payload of an ERROR message: a copy of the offending request's header, then a text. */
export interface ErrorPayload {
  readonly request: MessageHeader;
  readonly text: string;
}

export function decodeErrorPayload(payload: Buffer): ErrorPayload {
  const request = emptyHeader();
  if (!readHeader(payload, 0, request)) throw new CaProtocolError('ERROR payload shorter than a header');
  return { request, text: readNulTerminated(payload, request.headerSize, payload.length) };
}

/** Text up to the first NUL (or `end`), decoded as UTF-8 with replacement characters. */
export function readNulTerminated(buffer: Buffer, start: number, end: number): string {
  let stop = start;
  while (stop < end && buffer[stop] !== 0) stop++;
  return buffer.toString('utf8', start, stop);
}
