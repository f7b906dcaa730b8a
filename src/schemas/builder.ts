/**
 * The one FlatBuffers Builder all serialisers share (serialisation is synchronous, so it is never used by two
 * messages at once), and the vector and value-table helpers the schemas have in common. Call orders follow the
 * Python reference serialisers, so our bytes are identical to theirs.
 */
import { Builder, type Offset } from 'flatbuffers';
import type { NumericArray, NumericScalarValue } from '../model/update.js';
import { bytesOf } from './numeric.js';
import { patchUint32 } from './patch.js';

const SIZEOF_UOFFSET = 4;
/** Every value table (f144/f142 Byte ... ArrayDouble, se00/senv arrays) has a single field, `value`, id 0. */
const VALUE_FIELD = 0;

const builder = new Builder(1024);

/** The shared builder, emptied; `forceDefaults` as the schema's reference serialiser sets it. */
export function startMessage(forceDefaults: boolean): Builder {
  builder.clear();
  builder.forceDefaults(forceDefaults);
  return builder;
}

/** Finishes with the file identifier and returns a copy the caller owns. */
export function finishMessage(root: Offset, identifier: string): Uint8Array {
  builder.finish(root, identifier);
  return builder.asUint8Array().slice();
}

/**
 * Writes a vector of numbers in one copy. Lays it out exactly as `startVector(size, n, size)` followed by one
 * `add` per element would (what flatc code and Python's CreateNumpyVector do): align so the data ends on the
 * element size (at least 4, for the length), copy the bytes in, then prefix the element count.
 */
export function createNumericVector(target: Builder, array: NumericArray): Offset {
  const bytes = bytesOf(array);
  target.prep(Math.max(array.BYTES_PER_ELEMENT, SIZEOF_UOFFSET), bytes.length);
  // createByteVector copies the bytes and prefixes their count, which must become the element count.
  const vector = target.createByteVector(bytes);
  const data = target.dataBuffer();
  data.writeInt32(data.capacity() - vector, array.length);
  return vector;
}

/** A vector of strings, created last to first as the Python reference does. */
export function createStringVector(target: Builder, strings: readonly string[]): Offset {
  const offsets: Offset[] = [];
  for (let i = strings.length - 1; i >= 0; i--) offsets.push(target.createString(strings[i]));
  target.startVector(SIZEOF_UOFFSET, offsets.length, SIZEOF_UOFFSET);
  for (const offset of offsets) target.addOffset(offset);
  return target.endVector();
}

/** A value table holding one scalar (omitted when it equals the default 0 and defaults are not forced). */
export function createScalarTable(target: Builder, scalar: NumericScalarValue): Offset {
  target.startObject(1);
  switch (scalar.type) {
    case 'int8':
    case 'uint8':
      target.addFieldInt8(VALUE_FIELD, scalar.value, 0);
      break;
    case 'int16':
    case 'uint16':
      target.addFieldInt16(VALUE_FIELD, scalar.value, 0);
      break;
    case 'int32':
    case 'uint32':
      target.addFieldInt32(VALUE_FIELD, scalar.value, 0);
      break;
    case 'int64':
    case 'uint64':
      target.addFieldInt64(VALUE_FIELD, scalar.value, 0n);
      break;
    case 'float32':
      target.addFieldFloat32(VALUE_FIELD, scalar.value, 0);
      break;
    case 'float64':
      target.addFieldFloat64(VALUE_FIELD, scalar.value, 0);
      break;
  }
  return target.endObject();
}

/** A value table holding one vector or string, created just before it (the Python reference's order). */
export function createOffsetTable(target: Builder, offset: Offset): Offset {
  target.startObject(1);
  target.addFieldOffset(VALUE_FIELD, offset, 0);
  return target.endObject();
}

/**
 * Messages around one big array (ad00, da00), built so that the array is copied once. The object created first
 * ends up last in a FlatBuffer, so a message whose array vector is created first holds everything else before it,
 * and those bytes depend on the array's length only through the vector's length field and alignment (the offsets
 * are differences that the array shifts alike). A stand-in of the same length modulo 8 reproduces that alignment:
 * the message is built around the stand-in, then the real bytes are copied straight into their place in it. No
 * builder buffer grows to the array's size, and the result is what building with the array itself would give.
 */
const ALIGNMENT_PERIOD = 8;

/** Starts a message (as startMessage) and creates the array's [ubyte] vector first, as `array`. */
export function startMessageAroundArray(
  forceDefaults: boolean,
  arrayBytes: number,
): { readonly builder: Builder; readonly array: Offset } {
  startMessage(forceDefaults);
  return { builder, array: builder.createByteVector(new Uint8Array(arrayBytes % ALIGNMENT_PERIOD)) };
}

/**
 * Where a value message is built: 'own', a buffer of its own that the caller keeps as long as it likes; 'reused',
 * one buffer used again for the next such message of any stream (messages up to 1 MiB; larger ones get their
 * own). Streams build their value messages (f144, ad00, da00) as 'reused' and hand each to Kafka at once: every
 * buffer allocated counts as external memory to V8, which starts a full collection every ~64 MB of them, several
 * a second at thousands of array updates a second, each a pause longer than a pvAccess server buffers. A
 * 'reused' message lives until the next one is built; whoever keeps it longer keeps keepable(message).
 */
export type MessageBuffer = 'own' | 'reused';

const REUSED_BUFFER_MAX_BYTES = 1 << 20;
let reusedBuffer = new ArrayBuffer(0);

/** `size` bytes to build a message in, where `where` says; the caller writes every byte. */
export function messageBuffer(size: number, where: MessageBuffer): Uint8Array {
  if (where === 'own') return new Uint8Array(size);
  // Unpooled and uninitialised: a kept message pins no shared slab.
  if (size > REUSED_BUFFER_MAX_BYTES) return Buffer.allocUnsafeSlow(size);
  if (reusedBuffer.byteLength < size) reusedBuffer = new ArrayBuffer(size);
  return new Uint8Array(reusedBuffer, 0, size);
}

/** `message` itself, or a copy of it when it lives in the buffer the next 'reused' message will be built in. */
export function keepable(message: Uint8Array): Uint8Array {
  // new Uint8Array copies whatever view it is given; a Buffer's slice() would not.
  return message.buffer === reusedBuffer ? new Uint8Array(message) : message;
}

/** Finishes a message begun by startMessageAroundArray, with `array` in place of the stand-in, built `where`. */
export function finishMessageAroundArray(
  root: Offset,
  identifier: string,
  array: Uint8Array,
  where: MessageBuffer,
): Uint8Array {
  builder.finish(root, identifier);
  const built = builder.asUint8Array();
  const standIn = array.length % ALIGNMENT_PERIOD;
  // The vector's padding up to 4-byte alignment follows its bytes.
  const padding = (SIZEOF_UOFFSET - (standIn % SIZEOF_UOFFSET)) % SIZEOF_UOFFSET;
  const head = built.length - standIn - padding;
  const out = messageBuffer(head + array.length + padding, where);
  out.set(built.subarray(0, head));
  patchUint32(out, head - SIZEOF_UOFFSET, array.length);
  out.set(array, head);
  out.fill(0, head + array.length);
  return out;
}
