/**
 * The 8-byte message header (docs/protocols/pvaccess.md, "Message header"): magic 0xCA, version, flags, command, then a u32 in the byte order of
 * flags bit 7 — the payload size of an application message, or the value of a control message.
 */
import { HEADER_SIZE, HeaderFlag, PVA_MAGIC, PVA_VERSION } from './protocol.js';
import { PvaProtocolError, type WireWriter } from './wire.js';

export interface MessageHeader {
  readonly version: number;
  readonly flags: number;
  readonly command: number;
  /** Payload size (application messages) or value (control messages). */
  readonly size: number;
}

export function isControl(flags: number): boolean {
  return (flags & HeaderFlag.control) !== 0;
}

export function isLittleEndian(flags: number): boolean {
  return (flags & HeaderFlag.bigEndian) === 0;
}

export function isFromServer(flags: number): boolean {
  return (flags & HeaderFlag.fromServer) !== 0;
}

/**
 * Decodes and checks a header at bytes[offset]. `fromServer` is the direction the message must carry (undefined:
 * either): pvxs drops peers that get it wrong, and a wrong direction bit is the cheapest sign of a stream out of
 * step.
 */
export function readHeader(
  bytes: Uint8Array,
  offset: number,
  fromServer: boolean | undefined,
): MessageHeader {
  if (bytes.length - offset < HEADER_SIZE) throw new PvaProtocolError('truncated header');
  const magic = bytes[offset] as number;
  const version = bytes[offset + 1] as number;
  const flags = bytes[offset + 2] as number;
  const command = bytes[offset + 3] as number;
  if (magic !== PVA_MAGIC)
    throw new PvaProtocolError(`bad magic 0x${magic.toString(16)} (not a pvAccess stream)`);
  if (version === 0) throw new PvaProtocolError('protocol version 0');
  if (fromServer !== undefined && isFromServer(flags) !== fromServer) {
    throw new PvaProtocolError(`message direction flag wrong (flags 0x${flags.toString(16)})`);
  }
  const b4 = bytes[offset + 4] as number;
  const b5 = bytes[offset + 5] as number;
  const b6 = bytes[offset + 6] as number;
  const b7 = bytes[offset + 7] as number;
  const size = isLittleEndian(flags)
    ? (b4 | (b5 << 8) | (b6 << 16) | (b7 << 24)) >>> 0
    : ((b4 << 24) | (b5 << 16) | (b6 << 8) | b7) >>> 0;
  return { version, flags, command, size };
}

/**
 * Starts an application message in the writer's byte order; returns its offset for `endMessage`, which
 * patches in the payload size.
 */
export function beginMessage(writer: WireWriter, command: number, fromServer = false, segment = 0): number {
  const start = writer.pos;
  const flags =
    (fromServer ? HeaderFlag.fromServer : 0) | (writer.littleEndian ? 0 : HeaderFlag.bigEndian) | segment;
  writer.u8(PVA_MAGIC).u8(PVA_VERSION).u8(flags).u8(command).u32(0);
  return start;
}

export function endMessage(writer: WireWriter, start: number): void {
  writer.patchU32(start + 4, writer.pos - start - HEADER_SIZE, writer.littleEndian);
}

/** A control message (no payload; `value` sits in the size field). */
export function encodeControl(writer: WireWriter, command: number, value: number, fromServer = false): void {
  const flags =
    HeaderFlag.control |
    (fromServer ? HeaderFlag.fromServer : 0) |
    (writer.littleEndian ? 0 : HeaderFlag.bigEndian);
  writer.u8(PVA_MAGIC).u8(PVA_VERSION).u8(flags).u8(command).u32(value);
}

/** One application message of a datagram: its header, and where its payload starts and ends. */
export interface DatagramMessage {
  readonly header: MessageHeader;
  readonly start: number;
  readonly end: number;
}

/**
 * The application messages of a UDP datagram, which holds whole messages back to back; control messages are
 * skipped. Throws PvaProtocolError when a header is malformed, carries the wrong direction (`fromServer`, as for
 * readHeader) or announces more bytes than the datagram has.
 */
export function* datagramMessages(
  datagram: Uint8Array,
  fromServer: boolean | undefined,
): Generator<DatagramMessage> {
  let offset = 0;
  while (datagram.length - offset >= HEADER_SIZE) {
    const header = readHeader(datagram, offset, fromServer);
    if (isControl(header.flags)) {
      offset += HEADER_SIZE;
      continue;
    }
    const start = offset + HEADER_SIZE;
    const end = start + header.size;
    if (end > datagram.length) throw new PvaProtocolError('datagram shorter than its message');
    yield { header, start, end };
    offset = end;
  }
}
