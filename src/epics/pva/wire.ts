/**
 * Basic pvAccess encodings (docs/protocols/pvaccess.md, "Basic encodings"): integers and floats in either byte order, Size, String and Status.
 * `WireReader` decodes from a slice of a buffer without copying; `WireWriter` encodes into a growable buffer.
 * Both are reusable (reset) so the per-message hot path allocates nothing for them.
 */
import { SizeMarker, StatusType, statusTypeName } from './protocol.js';

/** Malformed or truncated input from a peer. Circuits close on it; it never escapes as a crash. */
export class PvaProtocolError extends Error {
  override readonly name = 'PvaProtocolError';
}

/** A decoded Status. OK and WARNING count as success. */
export interface PvaStatus {
  readonly type: number;
  readonly message: string;
  readonly callTree: string;
}

export const OK_STATUS: PvaStatus = { type: StatusType.ok, message: '', callTree: '' };

export function isSuccess(status: PvaStatus): boolean {
  return status.type === StatusType.ok || status.type === StatusType.warning;
}

export function describeStatus(status: PvaStatus): string {
  const name = statusTypeName[status.type] ?? `status ${status.type}`;
  return status.message === '' ? name : `${name}: ${status.message}`;
}

const EMPTY = Buffer.alloc(0);

export class WireReader {
  bytes: Buffer = EMPTY;
  private view: DataView = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);
  /** Next byte to read. */
  pos = 0;
  /** End of the readable range (exclusive). */
  end = 0;
  littleEndian = true;
  /** Whether views of `bytes` may outlive the message (false: they are reused once it has been handled). */
  retainable = true;

  constructor(bytes?: Buffer, littleEndian = true) {
    if (bytes) this.reset(bytes, 0, bytes.length, littleEndian);
  }

  /** Points the reader at bytes[start, end) in the given byte order. */
  reset(bytes: Buffer, start: number, end: number, littleEndian: boolean, retainable = true): this {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.pos = start;
    this.end = end;
    this.littleEndian = littleEndian;
    this.retainable = retainable;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless n more bytes are available. */
  need(n: number): void {
    if (this.end - this.pos < n) {
      throw new PvaProtocolError(
        `message truncated: need ${n} bytes at offset ${this.pos}, ${this.remaining} left`,
      );
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  i8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.pos, this.littleEndian);
    this.pos += 2;
    return value;
  }

  i16(): number {
    this.need(2);
    const value = this.view.getInt16(this.pos, this.littleEndian);
    this.pos += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, this.littleEndian);
    this.pos += 4;
    return value;
  }

  i32(): number {
    this.need(4);
    const value = this.view.getInt32(this.pos, this.littleEndian);
    this.pos += 4;
    return value;
  }

  u64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, this.littleEndian);
    this.pos += 8;
    return value;
  }

  i64(): bigint {
    this.need(8);
    const value = this.view.getBigInt64(this.pos, this.littleEndian);
    this.pos += 8;
    return value;
  }

  f32(): number {
    this.need(4);
    const value = this.view.getFloat32(this.pos, this.littleEndian);
    this.pos += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, this.littleEndian);
    this.pos += 8;
    return value;
  }

  boolean(): boolean {
    return this.u8() !== 0;
  }

  /** A Size: the count, or -1 for null. */
  size(): number {
    const first = this.u8();
    if (first <= SizeMarker.maxShort) return first;
    if (first === SizeMarker.nullValue) return -1;
    const value = this.i32();
    if (value < 0 || value === 0x7fffffff) throw new PvaProtocolError(`unsupported size ${value}`);
    return value;
  }

  /**
   * An element count: a Size that must not be null and must be plausible for the bytes left, given the
   * smallest encoded element, so garbage cannot make us allocate gigabytes.
   */
  count(minElementBytes: number): number {
    const n = this.size();
    if (n < 0) return 0;
    if (n * minElementBytes > this.end - this.pos) {
      throw new PvaProtocolError(`count ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  /** A String (Size + UTF-8); a null string reads as "". */
  string(): string {
    const n = this.size();
    if (n <= 0) return '';
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return this.bytes.toString('utf8', start, start + n);
  }

  /** A view of the next n bytes (not a copy). */
  slice(n: number): Buffer {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return this.bytes.subarray(start, start + n);
  }

  status(): PvaStatus {
    const type = this.u8();
    if (type === StatusType.okShort) return OK_STATUS;
    if (type > StatusType.fatal) throw new PvaProtocolError(`invalid status type ${type}`);
    return { type, message: this.string(), callTree: this.string() };
  }
}

const INITIAL_WRITER_SIZE = 4096;

export class WireWriter {
  private buf: Buffer;
  private view: DataView;
  pos = 0;

  constructor(
    public littleEndian = true,
    initialSize = INITIAL_WRITER_SIZE,
  ) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get length(): number {
    return this.pos;
  }

  /** Makes room for n more bytes, growing geometrically so a long run of writes stays linear. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** The bytes written so far, as a copy; the writer is then empty. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  u8(value: number): this {
    this.ensure(1);
    this.buf[this.pos++] = value & 0xff;
    return this;
  }

  i8(value: number): this {
    this.ensure(1);
    this.view.setInt8(this.pos++, value);
    return this;
  }

  u16(value: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, value, this.littleEndian);
    this.pos += 2;
    return this;
  }

  i16(value: number): this {
    this.ensure(2);
    this.view.setInt16(this.pos, value, this.littleEndian);
    this.pos += 2;
    return this;
  }

  u32(value: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, value, this.littleEndian);
    this.pos += 4;
    return this;
  }

  i32(value: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, value, this.littleEndian);
    this.pos += 4;
    return this;
  }

  u64(value: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, value, this.littleEndian);
    this.pos += 8;
    return this;
  }

  i64(value: bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.pos, value, this.littleEndian);
    this.pos += 8;
    return this;
  }

  f32(value: number): this {
    this.ensure(4);
    this.view.setFloat32(this.pos, value, this.littleEndian);
    this.pos += 4;
    return this;
  }

  f64(value: number): this {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, this.littleEndian);
    this.pos += 8;
    return this;
  }

  boolean(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** A Size; -1 encodes null. */
  size(n: number): this {
    if (n < 0) return this.u8(SizeMarker.nullValue);
    if (n <= SizeMarker.maxShort) return this.u8(n);
    return this.u8(SizeMarker.long).i32(n);
  }

  string(value: string): this {
    const n = Buffer.byteLength(value, 'utf8');
    this.size(n);
    this.ensure(n);
    this.buf.write(value, this.pos, n, 'utf8');
    this.pos += n;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  status(status: PvaStatus): this {
    if (status.type === StatusType.ok && status.message === '' && status.callTree === '') {
      return this.u8(StatusType.okShort);
    }
    return this.u8(status.type).string(status.message).string(status.callTree);
  }

  /** Overwrites a u32 written earlier (message sizes are patched in after the payload). */
  patchU32(offset: number, value: number, littleEndian: boolean): void {
    this.view.setUint32(offset, value, littleEndian);
  }

  /** Direct access for bulk copies of typed arrays. */
  reserve(n: number): { buffer: Buffer; offset: number } {
    this.ensure(n);
    const offset = this.pos;
    this.pos += n;
    return { buffer: this.buf, offset };
  }
}
