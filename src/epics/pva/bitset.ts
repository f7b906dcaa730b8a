/**
 * pvAccess BitSet (docs/protocols/pvaccess.md, "Basic encodings"): Size N (bytes), then ⌊N/8⌋ 64-bit words in the message byte order, then the
 * N mod 8 remaining bytes least significant first. On a big-endian connection each full 8-byte group is thus
 * byte-reversed relative to a plain LSB-first byte string.
 *
 * `BitSet` keeps its bits in 32-bit words and is reused across messages, so decoding allocates nothing once it
 * has grown to the largest set seen.
 */
import type { WireReader, WireWriter } from './wire.js';

export class BitSet {
  private words = new Uint32Array(4);
  /** Number of meaningful words (the rest are zero). */
  private used = 0;

  /** Replaces the contents with the BitSet at the reader's position. */
  read(reader: WireReader): this {
    const nBytes = reader.count(1);
    const nWords = (nBytes + 3) >>> 2;
    if (nWords > this.words.length) this.words = new Uint32Array(Math.max(nWords, this.words.length * 2));
    else this.words.fill(0, 0, this.used);
    this.used = nWords;
    const fullGroups = nBytes >>> 3;
    const words = this.words;
    for (let group = 0; group < fullGroups; group++) {
      const first = reader.u32();
      const second = reader.u32();
      // A 64-bit word in the message order: LE puts the low half first, BE the high half.
      if (reader.littleEndian) {
        words[group * 2] = first;
        words[group * 2 + 1] = second;
      } else {
        words[group * 2] = second;
        words[group * 2 + 1] = first;
      }
    }
    for (let byte = fullGroups * 8; byte < nBytes; byte++) {
      const word = byte >>> 2;
      words[word] = ((words[word] as number) | (reader.u8() << ((byte & 3) * 8))) >>> 0;
    }
    return this;
  }

  /** Sets exactly the given bits. */
  assign(bits: Iterable<number>): this {
    this.clear();
    for (const bit of bits) this.set(bit);
    return this;
  }

  clear(): this {
    this.words.fill(0, 0, this.used);
    this.used = 0;
    return this;
  }

  set(bit: number): this {
    const word = bit >>> 5;
    if (word >= this.words.length) {
      const grown = new Uint32Array(Math.max(word + 1, this.words.length * 2));
      grown.set(this.words);
      this.words = grown;
    }
    if (word >= this.used) this.used = word + 1;
    this.words[word] = ((this.words[word] as number) | (1 << (bit & 31))) >>> 0;
    return this;
  }

  has(bit: number): boolean {
    const word = bit >>> 5;
    return word < this.used && ((this.words[word] as number) & (1 << (bit & 31))) !== 0;
  }

  /** The first set bit at or after `from`, or -1. */
  nextSetBit(from: number): number {
    let word = from >>> 5;
    if (word >= this.used) return -1;
    let bits = (this.words[word] as number) & (0xffffffff << (from & 31));
    for (;;) {
      if (bits !== 0) return word * 32 + (31 - Math.clz32(bits & -bits));
      if (++word >= this.used) return -1;
      bits = this.words[word] as number;
    }
  }

  /** Number of set bits. */
  cardinality(): number {
    let total = 0;
    for (let i = 0; i < this.used; i++) {
      let v = this.words[i] as number;
      v = v - ((v >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      total += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return total;
  }

  isEmpty(): boolean {
    for (let i = 0; i < this.used; i++) if (this.words[i] !== 0) return false;
    return true;
  }

  /** The set bits in ascending order. */
  toArray(): number[] {
    const out: number[] = [];
    for (let bit = this.nextSetBit(0); bit >= 0; bit = this.nextSetBit(bit + 1)) out.push(bit);
    return out;
  }

  /** Encodes with trailing zero bytes trimmed, as pvxs and pvAccessCPP do. */
  write(writer: WireWriter): void {
    let nBytes = this.used * 4;
    while (nBytes > 0 && this.byteAt(nBytes - 1) === 0) nBytes--;
    writer.size(nBytes);
    const fullGroups = nBytes >>> 3;
    for (let group = 0; group < fullGroups; group++) {
      const low = this.words[group * 2] as number;
      const high = this.words[group * 2 + 1] as number;
      if (writer.littleEndian) writer.u32(low).u32(high);
      else writer.u32(high).u32(low);
    }
    for (let byte = fullGroups * 8; byte < nBytes; byte++) writer.u8(this.byteAt(byte));
  }

  private byteAt(byte: number): number {
    return ((this.words[byte >>> 2] as number) >>> ((byte & 3) * 8)) & 0xff;
  }
}
