/**
 * CRC-32 (IEEE 802.3, the one of zlib and of librdkafka's default partitioner) over a range of bytes. The spool
 * computes it for every record it writes and reads back, and for every key it replays: small inputs, for which
 * `zlib.crc32` costs more in the call and in the view it needs (a Buffer per call, for the garbage collector) than
 * in the sum. Table-driven, eight bytes per step ("slicing-by-8"); the values are zlib's.
 */

const POLYNOMIAL = 0xedb88320;
/** TABLES[k * 256 + b]: the CRC of byte b followed by k zero bytes. */
const TABLES = new Int32Array(8 * 256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? POLYNOMIAL ^ (crc >>> 1) : crc >>> 1;
  TABLES[byte] = crc;
}
for (let byte = 0; byte < 256; byte++) {
  let crc = TABLES[byte] as number;
  for (let k = 1; k < 8; k++) {
    crc = (TABLES[crc & 0xff] as number) ^ (crc >>> 8);
    TABLES[k * 256 + byte] = crc;
  }
}

/** The CRC-32 of `bytes[start, end)`, as zlib.crc32 gives it for those bytes. */
export function crc32Of(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let crc = -1;
  let at = start;
  for (; at + 8 <= end; at += 8) {
    const low =
      crc ^
      ((bytes[at] as number) |
        ((bytes[at + 1] as number) << 8) |
        ((bytes[at + 2] as number) << 16) |
        ((bytes[at + 3] as number) << 24));
    crc =
      (t[1792 + (low & 0xff)] as number) ^
      (t[1536 + ((low >>> 8) & 0xff)] as number) ^
      (t[1280 + ((low >>> 16) & 0xff)] as number) ^
      (t[1024 + (low >>> 24)] as number) ^
      (t[768 + (bytes[at + 4] as number)] as number) ^
      (t[512 + (bytes[at + 5] as number)] as number) ^
      (t[256 + (bytes[at + 6] as number)] as number) ^
      (t[bytes[at + 7] as number] as number);
  }
  for (; at < end; at++) crc = (t[(crc ^ (bytes[at] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
