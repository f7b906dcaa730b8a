/**
 * Splits a TCP byte stream into pvAccess messages and reassembles segmented ones
 * (docs/protocols/pvaccess.md, "Segmentation" and "Framing").
 *
 * Chunks are parsed in place: complete messages inside a chunk are handed on as (buffer, start, end) with no
 * copy. A chunk is only valid while push() runs (the transport reads every chunk into one reused buffer), so what
 * must outlive it is copied at once: a message that straddles chunks goes, as its bytes arrive, into a buffer of
 * exactly its size, one copy per byte however it is split; segments are copied and joined when the last arrives.
 * Control messages may interleave with segments, any other message there is a protocol error.
 */
import { type MessageHeader, isControl, isLittleEndian, readHeader } from './header.js';
import { HEADER_SIZE, HeaderFlag } from './protocol.js';
import { PvaProtocolError } from './wire.js';

export interface FrameHandler {
  onControl(command: number, value: number, littleEndian: boolean): void;
  /**
   * An application message; its payload is bytes[start, end). `retainable`: the bytes are never reused or
   * changed afterwards (a message assembled from several chunks), so a handler may keep views of them; otherwise
   * they are the chunk being pushed, and a handler copies what it keeps before it returns.
   */
  onMessage(
    command: number,
    littleEndian: boolean,
    bytes: Buffer,
    start: number,
    end: number,
    version: number,
    retainable: boolean,
  ): void;
}

/** Default limit for one (reassembled) message: far above any real PV, low enough to stop garbage sizes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export class MessageFramer {
  /** The start of a message that straddles chunks: its header while incomplete, then the whole message. */
  private partial: Buffer | undefined;
  /** Bytes of `partial` received (of the header alone while `partial` is undefined). */
  private partialBytes = 0;
  private readonly partialHeader = Buffer.alloc(HEADER_SIZE);
  private segments: Buffer[] = [];
  private segmentBytes = 0;
  private segmentCommand = -1;
  private stopped = false;

  constructor(
    private readonly handler: FrameHandler,
    /** True when parsing what a server sends (the client side). */
    private readonly fromServer: boolean,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {}

  /** Stops processing: the rest of the current chunk and later chunks are ignored. */
  stop(): void {
    this.stopped = true;
    this.partial = undefined;
    this.partialBytes = 0;
    this.segments = [];
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.partialBytes + this.segmentBytes;
  }

  /** Feeds received bytes, valid only during the call; throws PvaProtocolError on a protocol violation. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    const offset = this.partialBytes === 0 ? 0 : this.completePartial(chunk, 0);
    if (offset >= 0) this.consume(chunk, offset);
  }

  private consume(chunk: Buffer, from: number): void {
    let offset = from;
    while (!this.stopped && chunk.length - offset >= HEADER_SIZE) {
      const header = readHeader(chunk, offset, this.fromServer);
      const total = this.messageLength(header);
      if (chunk.length - offset < total) break;
      this.dispatch(header, chunk, offset, false);
      offset += total;
    }
    if (!this.stopped && offset < chunk.length) this.completePartial(chunk, offset);
  }

  /**
   * Adds chunk[from, ...) to the straddling message; dispatches it when complete and returns where the rest of
   * the chunk starts, or -1 when the chunk was all taken.
   */
  private completePartial(chunk: Buffer, from: number): number {
    let offset = from;
    if (this.partial === undefined) {
      const take = Math.min(HEADER_SIZE - this.partialBytes, chunk.length - offset);
      chunk.copy(this.partialHeader, this.partialBytes, offset, offset + take);
      this.partialBytes += take;
      offset += take;
      if (this.partialBytes < HEADER_SIZE) return -1;
      const header = readHeader(this.partialHeader, 0, this.fromServer);
      this.partial = Buffer.allocUnsafe(this.messageLength(header));
      this.partialHeader.copy(this.partial);
    }
    const message = this.partial;
    const take = Math.min(message.length - this.partialBytes, chunk.length - offset);
    chunk.copy(message, this.partialBytes, offset, offset + take);
    this.partialBytes += take;
    offset += take;
    if (this.partialBytes < message.length) return -1;
    this.partial = undefined;
    this.partialBytes = 0;
    this.dispatch(readHeader(message, 0, this.fromServer), message, 0, true);
    return this.stopped ? -1 : offset;
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

  private dispatch(header: MessageHeader, bytes: Buffer, offset: number, retainable: boolean): void {
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
      this.handler.onMessage(header.command, littleEndian, bytes, start, end, header.version, retainable);
      return;
    }
    const payload = bytes.subarray(start, end);
    this.addSegment(header, segment, retainable ? payload : Buffer.from(payload));
    if (segment === HeaderFlag.segmentLast) {
      const whole = Buffer.concat(this.segments, this.segmentBytes);
      this.segments = [];
      this.segmentBytes = 0;
      this.segmentCommand = -1;
      this.handler.onMessage(header.command, littleEndian, whole, 0, whole.length, header.version, true);
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
