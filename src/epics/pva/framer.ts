/**
 * Splits a TCP byte stream into pvAccess messages and reassembles segmented ones
 * (docs/protocols/pvaccess.md, "Segmentation" and "Framing").
 *
 * Chunks are parsed in place: complete messages inside a chunk are handed on as (buffer, start, end) with no
 * copy. Only a message that straddles chunks is copied, once, into a buffer of exactly its size, and a large
 * message is accumulated as a list of chunks until it is complete, so partial reads never cost more than one
 * copy per byte. Segments (first/middle/last) are concatenated when the last arrives; control messages may
 * interleave with segments, any other message there is a protocol error.
 */
import { type MessageHeader, isControl, isLittleEndian, readHeader } from './header.js';
import { HEADER_SIZE, HeaderFlag } from './protocol.js';
import { PvaProtocolError } from './wire.js';

export interface FrameHandler {
  onControl(command: number, value: number, littleEndian: boolean): void;
  /**
   * An application message; its payload is bytes[start, end). The bytes are never reused or changed afterwards
   * (each chunk the socket reads is new, and so is a message joined from several), so a handler may keep views of
   * them; a view keeps the whole chunk alive, which values.ts allows only for arrays that fill most of it.
   */
  onMessage(
    command: number,
    littleEndian: boolean,
    bytes: Buffer,
    start: number,
    end: number,
    version: number,
  ): void;
}

/** Default limit for one (reassembled) message: far above any real PV, low enough to stop garbage sizes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export class MessageFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private segments: Buffer[] = [];
  private segmentBytes = 0;
  private segmentCommand = -1;
  private stopped = false;
  private readonly headerScratch = Buffer.alloc(HEADER_SIZE);

  constructor(
    private readonly handler: FrameHandler,
    /** True when parsing what a server sends (the client side). */
    private readonly fromServer: boolean,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {}

  /** Stops processing: the rest of the current chunk and later chunks are ignored. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.segments = [];
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.pendingBytes + this.segmentBytes;
  }

  /** Feeds received bytes; throws PvaProtocolError on a protocol violation. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.pendingBytes === 0) {
      this.consume(chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (!this.stopped && this.pendingBytes >= HEADER_SIZE) {
      const header = readHeader(this.peekHeader(), 0, this.fromServer);
      const total = this.messageLength(header);
      if (this.pendingBytes < total) return;
      const message = this.takePending(total);
      this.dispatch(header, message, 0);
      if (this.pending.length === 1) {
        // Back to parsing in place once only the tail of one chunk is left.
        const rest = this.pending[0] as Buffer;
        this.pending = [];
        this.pendingBytes = 0;
        this.consume(rest);
        return;
      }
    }
  }

  private consume(chunk: Buffer): void {
    let offset = 0;
    while (!this.stopped && chunk.length - offset >= HEADER_SIZE) {
      const header = readHeader(chunk, offset, this.fromServer);
      const total = this.messageLength(header);
      if (chunk.length - offset < total) break;
      this.dispatch(header, chunk, offset);
      offset += total;
    }
    if (!this.stopped && offset < chunk.length) {
      this.pending.push(chunk.subarray(offset));
      this.pendingBytes += chunk.length - offset;
    }
  }

  private messageLength(header: MessageHeader): number {
    if (isControl(header.flags)) return HEADER_SIZE;
    if (header.size > this.maxMessageBytes - this.segmentBytes) {
      throw new PvaProtocolError(
        `message of ${header.size} bytes exceeds the ${this.maxMessageBytes} byte limit`,
      );
    }
    return HEADER_SIZE + header.size;
  }

  private peekHeader(): Buffer {
    let filled = 0;
    for (const chunk of this.pending) {
      const n = Math.min(chunk.length, HEADER_SIZE - filled);
      chunk.copy(this.headerScratch, filled, 0, n);
      filled += n;
      if (filled === HEADER_SIZE) break;
    }
    return this.headerScratch;
  }

  /** Removes the first n pending bytes, as a view when they lie in one chunk, else as one copy. */
  private takePending(n: number): Buffer {
    const first = this.pending[0] as Buffer;
    this.pendingBytes -= n;
    if (first.length >= n) {
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.pending[0] as Buffer;
      const take = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, take);
      filled += take;
      if (take === chunk.length) this.pending.shift();
      else this.pending[0] = chunk.subarray(take);
    }
    return out;
  }

  private dispatch(header: MessageHeader, bytes: Buffer, offset: number): void {
    const littleEndian = isLittleEndian(header.flags);
    if (isControl(header.flags)) {
      this.handler.onControl(header.command, header.size, littleEndian);
      return;
    }
    const start = offset + HEADER_SIZE;
    const end = start + header.size;
    const segment = header.flags & HeaderFlag.segmentMask;
    if (segment === 0) {
      if (this.segmentCommand >= 0) {
        throw new PvaProtocolError(`command 0x${header.command.toString(16)} inside a segmented message`);
      }
      this.handler.onMessage(header.command, littleEndian, bytes, start, end, header.version);
      return;
    }
    this.addSegment(header, segment, bytes.subarray(start, end));
    if (segment === HeaderFlag.segmentLast) {
      const whole = Buffer.concat(this.segments, this.segmentBytes);
      this.segments = [];
      this.segmentBytes = 0;
      this.segmentCommand = -1;
      this.handler.onMessage(header.command, littleEndian, whole, 0, whole.length, header.version);
    }
  }

  private addSegment(header: MessageHeader, segment: number, payload: Buffer): void {
    const continuation = segment !== HeaderFlag.segmentFirst;
    if (
      continuation !== this.segmentCommand >= 0 ||
      (continuation && header.command !== this.segmentCommand)
    ) {
      throw new PvaProtocolError(
        `segmentation violation: ${continuation ? 'continuation' : 'first segment'} of command 0x${header.command.toString(16)}`,
      );
    }
    this.segmentCommand = header.command;
    this.segments.push(payload);
    this.segmentBytes += payload.length;
  }
}
