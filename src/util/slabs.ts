/**
 * Room for small arrays that live as long as their stream, carved out of shared 8 kB ArrayBuffers, as Node pools
 * small Buffers. On an ArrayBuffer of its own, an array of a few dozen bytes carries an ArrayBuffer object and a
 * separately allocated backing store (~250 bytes more); at 10,000 streams that is megabytes. A slab is freed once
 * no array in it is left, so at worst (one live array per slab, after much churn) an array holds 8 kB; arrays made
 * together (one IOC's channels reconnecting, a batch of ADDs) tend to go together.
 */
const SLAB_BYTES = 8192;
/** Larger arrays get a buffer of their own: the overhead is small against them, and a slab is not wasted. */
export const LARGEST_SLAB_SHARE = 1024;

export class Slabs {
  private slab = new ArrayBuffer(SLAB_BYTES);
  private used = 0;

  /** A zeroed Uint8Array of `length` bytes. */
  uint8Array(length: number): Uint8Array {
    if (length > LARGEST_SLAB_SHARE) return new Uint8Array(length);
    const offset = this.share(length, 1);
    return new Uint8Array(this.slab, offset, length);
  }

  /** A zeroed Uint32Array of `length` elements. */
  uint32Array(length: number): Uint32Array {
    const byteLength = length * Uint32Array.BYTES_PER_ELEMENT;
    if (byteLength > LARGEST_SLAB_SHARE) return new Uint32Array(length);
    const offset = this.share(byteLength, Uint32Array.BYTES_PER_ELEMENT);
    return new Uint32Array(this.slab, offset, length);
  }

  /**
   * The offset of `byteLength` bytes, so aligned, in the current slab: a new one when this one is full, so read
   * `this.slab` after calling.
   */
  private share(byteLength: number, alignment: number): number {
    const start = Math.ceil(this.used / alignment) * alignment;
    if (start + byteLength > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.used = byteLength;
      return 0;
    }
    this.used = start + byteLength;
    return start;
  }
}
