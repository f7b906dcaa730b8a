/**
 * Which coordination-topic partition a stream belongs to. Every member of a forwarding group must compute the same
 * answer for the same PV on any host and any version, so the hash is fixed here (32-bit FNV-1a over the PV name's
 * UTF-8 bytes) rather than left to a runtime's string hashing. All streams of one PV share a partition, so one
 * member holds the PV's single EPICS subscription.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const encoder = new TextEncoder();

export function fnv1a32(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  return hash;
}

/** The partition (0 .. partitionCount - 1) whose owner forwards the streams of `pvName`. */
export function pvPartition(pvName: string, partitionCount: number): number {
  return fnv1a32(encoder.encode(pvName)) % partitionCount;
}
