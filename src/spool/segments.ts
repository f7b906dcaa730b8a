/**
 * The spool's files: a directory of segments, `<16 hex digits>.spool`, written one after another, each a run of
 * records (record.ts). Appends are buffered and written sequentially, at most WRITE_BUFFER_BYTES or
 * FLUSH_INTERVAL_MS late; with `sync`, every write is followed by an fsync. Opening a spool checks every segment:
 * a torn tail (a power cut in the middle of a write) is cut off at the last whole record, a corrupted record in the
 * middle is skipped up to the next record header; both are counted. A write that fails (a full or failing disk)
 * keeps what it could not write in memory and refuses appends once that fills up; the next flush tries again.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  decodeRecord,
  encodeRecord,
  findNextHeader,
  HEADER_BYTES,
  recordSize,
  type SpooledMessage,
} from './record.js';

const SEGMENT_PATTERN = /^([0-9a-f]{16})\.spool$/;
/** Appends wait in memory at most this many bytes... */
export const WRITE_BUFFER_BYTES = 1024 * 1024;
/** ...or this long before they are written. */
export const FLUSH_INTERVAL_MS = 100;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Writes bytes at a position of a file, returning how many it wrote: node's writeSync, or a stand-in disk in tests. */
export type FileWriter = (
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
) => number;

export interface SegmentOptions {
  readonly segmentBytes: number;
  readonly sync: boolean;
  readonly write?: FileWriter;
}

export interface Segment {
  readonly id: number;
  readonly path: string;
  /** Bytes in the file (not counting appends still buffered). */
  fileBytes: number;
  /** Records appended or found when opening. */
  records: number;
  /** Byte ranges [start, end) of corrupted records found when opening, which readers skip. */
  readonly skips: readonly (readonly [number, number])[];
}

/** What opening found wrong. */
export interface Recovery {
  /** Bytes cut off the end of segments: writes a crash or power cut left unfinished. */
  tornBytes: number;
  /** Records skipped because their bytes were corrupted. */
  corruptRecords: number;
  /** Bytes skipped with them. */
  corruptBytes: number;
}

/** A position in the spool: a segment and an offset in it. */
export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
}

export class SegmentFiles {
  private writeBuffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private buffered = 0;
  /** The segments' fileBytes summed, kept up to date: appends check the spool's size against it. */
  private writtenBytes: number;
  private fd: number | undefined;
  /** The error of the last write while writing fails, and when it failed. */
  private failure: Error | undefined;
  private failedAt = 0;

  private constructor(
    readonly dir: string,
    /** Oldest first; the last one is written to. */
    readonly segments: Segment[],
    private readonly options: SegmentOptions,
  ) {
    this.writtenBytes = segments.reduce((sum, segment) => sum + segment.fileBytes, 0);
  }

  /** Opens (creating) the spool directory and checks its segments; throws when the directory is unusable. */
  static open(
    dir: string,
    options: SegmentOptions,
  ): { readonly files: SegmentFiles; readonly recovery: Recovery } {
    mkdirSync(dir, { recursive: true });
    const recovery: Recovery = { tornBytes: 0, corruptRecords: 0, corruptBytes: 0 };
    const segments = readdirSync(dir)
      .map((name) => SEGMENT_PATTERN.exec(name))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => Number.parseInt(match[1] as string, 16))
      .sort((a, b) => a - b)
      .map((id) => checkSegment(dir, id, recovery));
    const files = new SegmentFiles(dir, segments, options);
    // Appends go to a segment of their own: the ones found are only read.
    if (!files.startSegment((segments.at(-1)?.id ?? 0) + 1)) throw files.failure as Error;
    return { files, recovery };
  }

  /** While writing to disk fails (a full or failing disk): the last error. */
  get writeFailure(): Error | undefined {
    return this.failure;
  }

  /** Bytes in all segments, buffered appends included. */
  get bytes(): number {
    return this.writtenBytes + this.buffered;
  }

  /** Where the next append goes. */
  get end(): SpoolPosition {
    const last = this.segments.at(-1) as Segment;
    return { segment: last.id, offset: last.fileBytes + this.buffered };
  }

  /**
   * Appends a record; returns the segment it is in, or undefined when there is no room because writing to disk
   * fails (tried again at most every FLUSH_INTERVAL_MS).
   */
  append(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): number | undefined {
    const size = recordSize(topic, key, payload);
    let last = this.segments.at(-1) as Segment;
    if (
      last.fileBytes + this.buffered > 0 &&
      last.fileBytes + this.buffered + size > this.options.segmentBytes
    ) {
      const next = this.makeRoom() ? this.startSegment(last.id + 1) : undefined;
      if (next === undefined) return undefined;
      last = next;
    }
    if (this.buffered + size > this.writeBuffer.length) {
      if (!this.makeRoom()) return undefined;
      if (size > this.writeBuffer.length) this.writeBuffer = Buffer.allocUnsafe(size);
    }
    encodeRecord(this.writeBuffer, this.buffered, topic, key, payload, timestampMs);
    this.buffered += size;
    last.records++;
    return last.id;
  }

  /**
   * Writes the buffered appends (and fsyncs them, with `sync`); false when writing failed, and then what was not
   * written stays buffered.
   */
  flush(): boolean {
    if (this.buffered === 0 || this.fd === undefined) {
      this.failure = undefined;
      return true;
    }
    const write = this.options.write ?? writeSync;
    const segment = this.segments.at(-1) as Segment;
    let written = 0;
    try {
      while (written < this.buffered) {
        const length = this.buffered - written;
        written += write(this.fd, this.writeBuffer, written, length, segment.fileBytes + written);
      }
      if (this.options.sync) fsyncSync(this.fd);
    } catch (error) {
      this.failed(error);
      // Keep all of it buffered: the next write starts again where this one did, over any part it wrote.
      if (written > 0) this.truncate(segment.fileBytes);
      return false;
    }
    this.failure = undefined;
    segment.fileBytes += written;
    this.writtenBytes += written;
    this.buffered = 0;
    return true;
  }

  private truncate(length: number): void {
    try {
      ftruncateSync(this.fd as number, length);
    } catch {
      // The disk fails altogether: the next write goes over the part written, and what sticks out beyond it is a
      // torn tail that opening the spool again cuts off.
    }
  }

  /** Empties the write buffer, unless writing failed less than FLUSH_INTERVAL_MS ago (no retry per append). */
  private makeRoom(): boolean {
    if (this.failure !== undefined && performance.now() - this.failedAt < FLUSH_INTERVAL_MS) return false;
    return this.flush();
  }

  private failed(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.failedAt = performance.now();
  }

  /** Deletes a segment that is not the one written to. */
  delete(id: number): void {
    const index = this.segments.findIndex((segment) => segment.id === id);
    if (index < 0 || index === this.segments.length - 1) return;
    const [segment] = this.segments.splice(index, 1) as [Segment];
    this.writtenBytes -= segment.fileBytes;
    rmSync(segment.path, { force: true });
  }

  /** Reads the records from `from` on, written or buffered, at most about `maxBytes` of them. */
  read(from: SpoolPosition, maxBytes = READ_CHUNK_BYTES): { records: SpooledRecord[]; next: SpoolPosition } {
    const records: SpooledRecord[] = [];
    let position = from;
    let read = 0;
    while (read < maxBytes) {
      const index = this.segments.findIndex((segment) => segment.id >= position.segment);
      const segment = this.segments[index];
      if (!segment) break;
      if (segment.id !== position.segment) position = { segment: segment.id, offset: 0 };
      const skip = segment.skips.find(([start, end]) => position.offset >= start && position.offset < end);
      if (skip) {
        position = { segment: segment.id, offset: skip[1] };
        continue;
      }
      if (position.offset >= segment.fileBytes) {
        if (index === this.segments.length - 1) {
          position = this.readBuffered(segment, position, records);
          break;
        }
        position = { segment: (this.segments[index + 1] as Segment).id, offset: 0 };
        continue;
      }
      const nextSkip = segment.skips.find(([start]) => start > position.offset)?.[0] ?? segment.fileBytes;
      const chunk = readChunk(
        segment,
        position.offset,
        Math.min(maxBytes - read, nextSkip - position.offset),
      );
      let offset = 0;
      while (offset < chunk.length) {
        const found = decodeRecord(chunk, offset);
        if (found.kind !== 'record') break;
        records.push({ message: found.message, segment: segment.id });
        offset = found.end;
      }
      if (offset === 0) {
        // A record larger than what was asked for: read it alone.
        const whole = readWholeRecord(segment, position.offset);
        if (!whole) break;
        records.push({ message: whole.message, segment: segment.id });
        offset = whole.end;
      }
      position = { segment: segment.id, offset: position.offset + offset };
      read += offset;
    }
    return { records, next: position };
  }

  /** Appends still in memory from `position` (in the last segment) on, copied out of the write buffer. */
  private readBuffered(segment: Segment, position: SpoolPosition, records: SpooledRecord[]): SpoolPosition {
    const start = position.offset - segment.fileBytes;
    if (start >= this.buffered) return position;
    const bytes = Buffer.from(this.writeBuffer.subarray(start, this.buffered));
    let offset = 0;
    while (offset < bytes.length) {
      const found = decodeRecord(bytes, offset);
      if (found.kind !== 'record') break;
      records.push({ message: found.message, segment: segment.id });
      offset = found.end;
    }
    return { segment: segment.id, offset: position.offset + offset };
  }

  /** Writes what is buffered and closes the file; returns the bytes that could not be written (lost). */
  close(): number {
    this.flush();
    const unwritten = this.buffered;
    this.buffered = 0;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    return unwritten;
  }

  /** After close(): removes every segment (nothing in them is needed any more). */
  deleteAll(): void {
    for (const segment of this.segments.splice(0)) rmSync(segment.path, { force: true });
    this.writtenBytes = 0;
  }

  /** Opens a new segment to append to; undefined (and a write failure) when the file cannot be created. */
  private startSegment(id: number): Segment | undefined {
    const path = join(this.dir, segmentName(id));
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (error) {
      this.failed(error);
      return undefined;
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = fd;
    const segment: Segment = { id, path, fileBytes: 0, records: 0, skips: [] };
    this.segments.push(segment);
    return segment;
  }
}

/** A record read back, with the segment it is in. */
export interface SpooledRecord {
  readonly message: SpooledMessage;
  readonly segment: number;
}

function segmentName(id: number): string {
  return `${id.toString(16).padStart(16, '0')}.spool`;
}

function readChunk(segment: Segment, offset: number, maxBytes: number): Buffer {
  const length = Math.min(maxBytes, segment.fileBytes - offset);
  const chunk = Buffer.allocUnsafe(length);
  const fd = openSync(segment.path, 'r');
  try {
    return chunk.subarray(0, readFully(fd, chunk, offset));
  } finally {
    closeSync(fd);
  }
}

/** Fills `target` from `position` of the file, short only where the file ends; returns the bytes read. */
function readFully(fd: number, target: Buffer, position: number): number {
  let filled = 0;
  while (filled < target.length) {
    const n = readSync(fd, target, filled, target.length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

function readWholeRecord(
  segment: Segment,
  offset: number,
): { message: SpooledMessage; end: number } | undefined {
  const header = readChunk(segment, offset, HEADER_BYTES);
  if (header.length < HEADER_BYTES) return undefined;
  const whole = readChunk(segment, offset, HEADER_BYTES + header.readUInt32LE(4));
  const found = decodeRecord(whole, 0);
  return found.kind === 'record' ? { message: found.message, end: found.end } : undefined;
}

/**
 * Checks one segment at opening: counts its records, skips corrupted ones (rewriting nothing: a reader skips them
 * the same way) and cuts off a torn tail.
 */
function checkSegment(dir: string, id: number, recovery: Recovery): Segment {
  const path = join(dir, segmentName(id));
  const fd = openSync(path, 'r+');
  try {
    const stated = Buffer.allocUnsafe(fstatSync(fd).size);
    const bytes = stated.subarray(0, readFully(fd, stated, 0));
    const size = bytes.length;
    let offset = 0;
    let records = 0;
    let goodEnd = 0;
    const skips: [number, number][] = [];
    while (offset < size) {
      const found = decodeRecord(bytes, offset);
      if (found.kind === 'record') {
        records++;
        offset = found.end;
        goodEnd = offset;
        continue;
      }
      const next = nextGoodRecord(bytes, offset + 1);
      if (next < 0) break;
      // Corrupted in the middle (a good record follows): readers skip the bad bytes.
      recovery.corruptRecords++;
      recovery.corruptBytes += next - offset;
      skips.push([offset, next]);
      offset = next;
    }
    if (goodEnd < size) {
      recovery.tornBytes += size - goodEnd;
      ftruncateSync(fd, goodEnd);
    }
    return { id, path, fileBytes: goodEnd, records, skips: skips.filter(([start]) => start < goodEnd) };
  } finally {
    closeSync(fd);
  }
}

/** The offset of the next whole record at or after `from`, or -1 when none follows. */
function nextGoodRecord(bytes: Buffer, from: number): number {
  for (let at = findNextHeader(bytes, from); at >= 0; at = findNextHeader(bytes, at + 1)) {
    if (decodeRecord(bytes, at).kind === 'record') return at;
  }
  return -1;
}
