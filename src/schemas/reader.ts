/**
 * A bounds-checked FlatBuffers reader. Every offset, length and vtable entry is checked against the buffer
 * before it is followed, so a truncated, corrupted or hostile buffer gives a SchemaDecodeError, never an
 * exception from deeper down, a read outside the message, or a loop over a fake billion-element vector. Reads go
 * through a DataView, so buffers at any byteOffset (slices of a Kafka batch) work; vectors are copied out, so
 * decoded values never alias the input.
 */
import type { NumericArrayOf, NumericType } from '../model/update.js';
import { SchemaDecodeError } from './errors.js';
import { copyNumericArray, sizeOf } from './numeric.js';

/**
 * The fields of a schema's messages that hold enum values, wherever they occur in a message, each with its enum
 * (a TypeScript numeric enum maps numbers back to names), so that a message can be shown with names.
 */
export type EnumFields = Readonly<Record<string, Readonly<Record<number, string>>>>;

const IDENTIFIER_OFFSET = 4;
const IDENTIFIER_LENGTH = 4;
const UOFFSET_SIZE = 4;
/** vtable: u16 vtable size, u16 table size, then one u16 field offset per field id. */
const VTABLE_HEADER_SIZE = 4;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The 4-character file identifier at bytes 4-7. */
export function readFileIdentifier(bytes: Uint8Array, schema = ''): string {
  if (bytes.length < IDENTIFIER_OFFSET + IDENTIFIER_LENGTH) {
    throw new SchemaDecodeError(
      'short-buffer',
      schema,
      `buffer of ${bytes.length} bytes has no file identifier`,
    );
  }
  return String.fromCharCode(...bytes.subarray(IDENTIFIER_OFFSET, IDENTIFIER_OFFSET + IDENTIFIER_LENGTH));
}

/** Checks the identifier and returns the root table. */
export function readRootTable(bytes: Uint8Array, identifier: string): TableReader {
  const found = readFileIdentifier(bytes, identifier);
  if (found !== identifier) {
    throw new SchemaDecodeError(
      'wrong-identifier',
      identifier,
      `buffer has file identifier ${JSON.stringify(found)}`,
    );
  }
  const buffer = new BufferReader(bytes, identifier);
  return buffer.table(buffer.followUOffset(0));
}

/**
 * Decoded strings may add up to this many times the buffer size. Legal FlatBuffers can share one string between
 * many fields, so a small buffer could otherwise expand into gigabytes of JavaScript strings.
 */
const STRING_EXPANSION_LIMIT = 16;

class BufferReader {
  readonly view: DataView;
  private stringBudget: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly schema: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.stringBudget = STRING_EXPANSION_LIMIT * bytes.length;
  }

  fail(detail: string): never {
    throw new SchemaDecodeError('malformed', this.schema, detail);
  }

  /** Throws unless `size` bytes at `position` lie inside the buffer. */
  check(position: number, size: number, what: string): void {
    if (position < 0 || position + size > this.bytes.length) {
      throw new SchemaDecodeError(
        'out-of-bounds',
        this.schema,
        `${what} at ${position} (${size} bytes) lies outside the ${this.bytes.length}-byte buffer`,
      );
    }
  }

  /** The position a uoffset at `position` points to. */
  followUOffset(position: number): number {
    this.check(position, UOFFSET_SIZE, 'offset');
    const target = position + this.view.getUint32(position, true);
    this.check(target, 0, 'offset target');
    return target;
  }

  table(position: number): TableReader {
    this.check(position, 4, 'table');
    const vtable = position - this.view.getInt32(position, true);
    this.check(vtable, VTABLE_HEADER_SIZE, 'vtable');
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < VTABLE_HEADER_SIZE || vtableSize % 2 !== 0) this.fail(`vtable size ${vtableSize}`);
    if (tableSize < 4) this.fail(`table size ${tableSize}`);
    this.check(vtable, vtableSize, 'vtable');
    this.check(position, tableSize, 'table');
    return new TableReader(this, position, vtable, vtableSize, tableSize);
  }

  /** Start and element count of the vector a uoffset at `position` points to, checked for `elementSize`. */
  vector(position: number, elementSize: number): { start: number; length: number } {
    const lengthPosition = this.followUOffset(position);
    this.check(lengthPosition, UOFFSET_SIZE, 'vector length');
    const length = this.view.getUint32(lengthPosition, true);
    const start = lengthPosition + UOFFSET_SIZE;
    this.check(start, length * elementSize, 'vector');
    return { start, length };
  }

  string(position: number): string {
    const { start, length } = this.vector(position, 1);
    this.stringBudget -= length;
    if (this.stringBudget < 0) this.fail('strings expand beyond any plausible message');
    try {
      return utf8.decode(this.bytes.subarray(start, start + length));
    } catch {
      return this.fail(`string at ${start} is not valid UTF-8`);
    }
  }
}

/** One table: field lookups by field id (declaration order), schema defaults for absent fields. */
export class TableReader {
  constructor(
    private readonly buffer: BufferReader,
    readonly position: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly tableSize: number,
  ) {}

  /** Absolute position of field `id` if present with room for `size` bytes, else 0. */
  private field(id: number, size: number): number {
    const entry = VTABLE_HEADER_SIZE + 2 * id;
    if (entry >= this.vtableSize) return 0;
    const offset = this.buffer.view.getUint16(this.vtable + entry, true);
    if (offset === 0) return 0;
    if (offset + size > this.tableSize) {
      this.buffer.fail(`field ${id} at offset ${offset} overruns its ${this.tableSize}-byte table`);
    }
    return this.position + offset;
  }

  has(id: number): boolean {
    return this.field(id, 0) !== 0;
  }

  /** Absolute position of scalar field `id` of `size` bytes, or 0 when absent (for patching built messages). */
  fieldPosition(id: number, size: number): number {
    return this.field(id, size);
  }

  int8(id: number, defaultValue = 0): number {
    const at = this.field(id, 1);
    return at === 0 ? defaultValue : this.buffer.view.getInt8(at);
  }

  uint8(id: number, defaultValue = 0): number {
    const at = this.field(id, 1);
    return at === 0 ? defaultValue : this.buffer.view.getUint8(at);
  }

  int16(id: number, defaultValue = 0): number {
    const at = this.field(id, 2);
    return at === 0 ? defaultValue : this.buffer.view.getInt16(at, true);
  }

  uint16(id: number, defaultValue = 0): number {
    const at = this.field(id, 2);
    return at === 0 ? defaultValue : this.buffer.view.getUint16(at, true);
  }

  int32(id: number, defaultValue = 0): number {
    const at = this.field(id, 4);
    return at === 0 ? defaultValue : this.buffer.view.getInt32(at, true);
  }

  uint32(id: number, defaultValue = 0): number {
    const at = this.field(id, 4);
    return at === 0 ? defaultValue : this.buffer.view.getUint32(at, true);
  }

  int64(id: number, defaultValue = 0n): bigint {
    const at = this.field(id, 8);
    return at === 0 ? defaultValue : this.buffer.view.getBigInt64(at, true);
  }

  uint64(id: number, defaultValue = 0n): bigint {
    const at = this.field(id, 8);
    return at === 0 ? defaultValue : this.buffer.view.getBigUint64(at, true);
  }

  float32(id: number, defaultValue = 0): number {
    const at = this.field(id, 4);
    return at === 0 ? defaultValue : this.buffer.view.getFloat32(at, true);
  }

  float64(id: number, defaultValue = 0): number {
    const at = this.field(id, 8);
    return at === 0 ? defaultValue : this.buffer.view.getFloat64(at, true);
  }

  /** A scalar field of a numeric type; 64-bit integers as bigint. */
  numeric(id: number, type: NumericType): number | bigint {
    switch (type) {
      case 'int8':
        return this.int8(id);
      case 'uint8':
        return this.uint8(id);
      case 'int16':
        return this.int16(id);
      case 'uint16':
        return this.uint16(id);
      case 'int32':
        return this.int32(id);
      case 'uint32':
        return this.uint32(id);
      case 'int64':
        return this.int64(id);
      case 'uint64':
        return this.uint64(id);
      case 'float32':
        return this.float32(id);
      case 'float64':
        return this.float64(id);
    }
  }

  string(id: number): string | null {
    const at = this.field(id, UOFFSET_SIZE);
    return at === 0 ? null : this.buffer.string(at);
  }

  table(id: number): TableReader | null {
    const at = this.field(id, UOFFSET_SIZE);
    return at === 0 ? null : this.buffer.table(this.buffer.followUOffset(at));
  }

  /** Where the data of vector field `id` starts and how many elements it has, or null when absent. */
  vectorPosition(id: number, elementSize: number): { start: number; length: number } | null {
    const at = this.field(id, UOFFSET_SIZE);
    return at === 0 ? null : this.buffer.vector(at, elementSize);
  }

  /** A vector of numbers, copied into a new typed array. */
  numericVector<T extends NumericType>(id: number, type: T): NumericArrayOf[T] | null {
    const vector = this.vectorPosition(id, sizeOf(type));
    return vector === null ? null : copyNumericArray(type, this.buffer.bytes, vector.start, vector.length);
  }

  stringVector(id: number): string[] | null {
    return this.offsetVector(id, (position) => this.buffer.string(position));
  }

  tableVector(id: number): TableReader[] | null {
    return this.offsetVector(id, (position) => this.buffer.table(this.buffer.followUOffset(position)));
  }

  private offsetVector<T>(id: number, read: (position: number) => T): T[] | null {
    const at = this.field(id, UOFFSET_SIZE);
    if (at === 0) return null;
    const { start, length } = this.buffer.vector(at, UOFFSET_SIZE);
    const items: T[] = [];
    for (let i = 0; i < length; i++) items.push(read(start + i * UOFFSET_SIZE));
    return items;
  }

  fail(detail: string): never {
    return this.buffer.fail(detail);
  }
}
