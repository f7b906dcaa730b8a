/**
 * TCP framing: turns the byte stream of a circuit into messages.
 *
 * Messages that lie wholly inside a received chunk are passed on as slices of it (no copy). The pieces of a
 * message that straddles chunks are kept as slices and joined once when the message is complete, so every byte
 * is copied at most once however the stream is cut, and memory grows only with bytes actually received (an
 * absurd announced size allocates nothing up front).
 */
import { EXTENDED_HEADER_SIZE } from './constants.js';
import { CaProtocolError, emptyHeader, readHeader, type MessageHeader } from './messages.js';

/**
 * Receives each message. `header` is reused for the next message and `payload` may be a view of a received
 * chunk: copy what must outlive the call.
 */
export type FrameHandler = (header: MessageHeader, payload: Buffer) => void;

export class MessageFramer {
  private readonly header = emptyHeader();
  /** Pieces of a message that straddles chunks. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** Total size of the message being assembled, or 0 while its header is incomplete. */
  private messageSize = 0;

  constructor(
    /** Largest payload accepted; a bigger announced size is a protocol error. */
    private readonly maxPayloadBytes: number,
    private readonly onMessage: FrameHandler,
  ) {}

  /** True while part of a message is waiting for more bytes. */
  get hasPartialMessage(): boolean {
    return this.pieceBytes > 0;
  }

  /** Feeds received bytes; throws CaProtocolError for an oversized message (the stream is then unusable). */
  push(chunk: Buffer): void {
    let offset = this.pieceBytes > 0 ? this.continueMessage(chunk) : 0;
    const header = this.header;
    while (offset < chunk.length) {
      if (!readHeader(chunk, offset, header)) {
        this.keep(chunk.subarray(offset));
        return;
      }
      this.checkSize(header);
      const start = offset + header.headerSize;
      const end = start + header.payloadSize;
      if (end > chunk.length) {
        this.messageSize = end - offset;
        this.keep(chunk.subarray(offset));
        return;
      }
      this.onMessage(header, chunk.subarray(start, end));
      offset = end;
    }
  }

  private checkSize(header: MessageHeader): void {
    if (header.payloadSize > this.maxPayloadBytes) {
      throw new CaProtocolError(
        `message of ${header.payloadSize} bytes (command ${header.command}) exceeds the limit of ${this.maxPayloadBytes}`,
      );
    }
  }

  private keep(piece: Buffer): void {
    this.pieces.push(piece);
    this.pieceBytes += piece.length;
  }

  /** Adds bytes of `chunk` to the straddling message; returns where the rest of the chunk starts. */
  private continueMessage(chunk: Buffer): number {
    if (this.messageSize === 0 && !this.learnSize(chunk)) {
      this.keep(chunk);
      return chunk.length;
    }
    const needed = this.messageSize - this.pieceBytes;
    if (chunk.length < needed) {
      this.keep(chunk);
      return chunk.length;
    }
    this.keep(chunk.subarray(0, needed));
    const message = Buffer.concat(this.pieces, this.messageSize);
    this.pieces = [];
    this.pieceBytes = 0;
    this.messageSize = 0;
    readHeader(message, 0, this.header);
    this.onMessage(this.header, message.subarray(this.header.headerSize));
    return needed;
  }

  /** Reads the header from the kept bytes (fewer than 24) plus the start of `chunk`, if they suffice. */
  private learnSize(chunk: Buffer): boolean {
    const head = Buffer.concat([...this.pieces, chunk.subarray(0, EXTENDED_HEADER_SIZE)]);
    if (!readHeader(head, 0, this.header)) return false;
    this.checkSize(this.header);
    this.messageSize = this.header.headerSize + this.header.payloadSize;
    return true;
  }
}
