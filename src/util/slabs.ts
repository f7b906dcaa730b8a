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

export interface SlabShare {
  readonly buffer: ArrayBuffer;
  readonly byteOffset: number;
}

export class Slabs {
  private slab = new ArrayBuffer(SLAB_BYTES);
  private used = 0;

  /** @param alignment of every share's byteOffset: the element size of the typed arrays laid over the shares. */
  constructor(private readonly alignment = 1) {}

  /** Zeroed room for `byteLength` (at most LARGEST_SLAB_SHARE) bytes. */
  share(byteLength: number): SlabShare {
    if (byteLength > LARGEST_SLAB_SHARE)
      throw new RangeError(`${byteLength} bytes is too large for a slab share`);
    const start = Math.ceil(this.used / this.alignment) * this.alignment;
    if (start + byteLength > SLAB_BYTES) {
      this.slab = new ArrayBuffer(SLAB_BYTES);
      this.used = byteLength;
      return { buffer: this.slab, byteOffset: 0 };
    }
    this.used = start + byteLength;
    return { buffer: this.slab, byteOffset: start };
  }
}
