/**
 * The messages of a make-before-break hand-over (docs/scaling.md, "Hand-over agreement"), as bytes, without I/O.
 * They travel on the coordination topic, each on the partition it is about. Little-endian:
 *
 *   u32 magic 0x454B_4648 ("EKFH"), u8 version (1), u8 kind, u32 partition,
 *   string sender, string recipient (empty: anyone),
 *   RELEASED only: u32 cut count, then per cut: string stream, i64 EPICS time of its last forwarded update (ns)
 *
 * A string is a u16 byte length and that many bytes of UTF-8.
 */
export const HANDOVER_MAGIC = 0x454b4648;
export const HANDOVER_VERSION = 1;

/** What a message says. */
export const HandoverKind = {
  /** The sender's partition was revoked: it keeps forwarding until a READY, then answers with RELEASED. */
  Releasing: 1,
  /** The sender (the partition's new owner) has subscribed the partition's streams and holds their updates. */
  Ready: 2,
  /** The sender stopped the partition's streams; the cuts say where the recipient takes over. */
  Released: 3,
} as const;
export type HandoverKind = (typeof HandoverKind)[keyof typeof HandoverKind];

export interface HandoverMessage {
  readonly kind: HandoverKind;
  readonly partition: number;
  /** The member that sent it: unique per process, so that a restarted member is a new one. */
  readonly sender: string;
  /** The member it is meant for; '' for anyone. */
  readonly recipient: string;
  /** RELEASED: per stream, the EPICS time (ns) of the last update the sender forwarded. Empty otherwise. */
  readonly cuts: ReadonlyMap<string, bigint>;
}

export class HandoverMessageError extends Error {}

const HEADER_BYTES = 10;
const MAX_STRING_BYTES = 0xffff;

export function encodeHandoverMessage(message: HandoverMessage): Buffer {
  const { kind, partition, sender, recipient, cuts } = message;
  if (kind !== HandoverKind.Released && cuts.size > 0) {
    throw new HandoverMessageError('only a RELEASED message carries cuts');
  }
  const strings = [sender, recipient, ...cuts.keys()].map((text) => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > MAX_STRING_BYTES)
      throw new HandoverMessageError(`a name of ${bytes.length} bytes is too long`);
    return bytes;
  });
  const cutBytes = kind === HandoverKind.Released ? 4 + cuts.size * 8 : 0;
  const target = Buffer.alloc(
    HEADER_BYTES + strings.reduce((sum, bytes) => sum + 2 + bytes.length, 0) + cutBytes,
  );
  let at = target.writeUInt32LE(HANDOVER_MAGIC, 0);
  at = target.writeUInt8(HANDOVER_VERSION, at);
  at = target.writeUInt8(kind, at);
  at = target.writeUInt32LE(partition, at);
  const [senderBytes, recipientBytes, ...streamBytes] = strings as [Buffer, Buffer, ...Buffer[]];
  at = writeString(target, at, senderBytes);
  at = writeString(target, at, recipientBytes);
  if (kind === HandoverKind.Released) {
    at = target.writeUInt32LE(cuts.size, at);
    let index = 0;
    for (const timestampNs of cuts.values()) {
      at = writeString(target, at, streamBytes[index++] as Buffer);
      at = target.writeBigInt64LE(timestampNs, at);
    }
  }
  return target;
}

/** Throws HandoverMessageError, saying what is wrong, for anything that is not one whole message. */
export function decodeHandoverMessage(bytes: Uint8Array): HandoverMessage {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(source);
  const magic = reader.u32();
  if (magic !== HANDOVER_MAGIC)
    throw new HandoverMessageError(`not a hand-over message (magic 0x${magic.toString(16)})`);
  const version = reader.u8();
  if (version !== HANDOVER_VERSION)
    throw new HandoverMessageError(`hand-over message version ${version} is not supported`);
  const kind = reader.u8();
  if (!isKind(kind)) throw new HandoverMessageError(`unknown hand-over message kind ${kind}`);
  const partition = reader.u32();
  const sender = reader.string();
  const recipient = reader.string();
  const cuts = new Map<string, bigint>();
  if (kind === HandoverKind.Released) {
    const count = reader.u32();
    for (let i = 0; i < count; i++) {
      const stream = reader.string();
      cuts.set(stream, reader.i64());
    }
  }
  if (reader.remaining > 0)
    throw new HandoverMessageError(`${reader.remaining} bytes after the end of a hand-over message`);
  return { kind, partition, sender, recipient, cuts };
}

function isKind(value: number): value is HandoverKind {
  return Object.values<number>(HandoverKind).includes(value);
}

function writeString(target: Buffer, at: number, bytes: Buffer): number {
  const start = target.writeUInt16LE(bytes.length, at);
  return start + bytes.copy(target, start);
}

/** Reads fields in order, failing clearly on a message cut short. */
class Reader {
  private at = 0;

  constructor(private readonly source: Buffer) {}

  get remaining(): number {
    return this.source.length - this.at;
  }

  u8(): number {
    return this.source.readUInt8(this.take(1));
  }

  u32(): number {
    return this.source.readUInt32LE(this.take(4));
  }

  i64(): bigint {
    return this.source.readBigInt64LE(this.take(8));
  }

  string(): string {
    const length = this.source.readUInt16LE(this.take(2));
    const start = this.take(length);
    return this.source.toString('utf8', start, start + length);
  }

  private take(bytes: number): number {
    if (this.remaining < bytes) throw new HandoverMessageError('hand-over message cut short');
    const start = this.at;
    this.at += bytes;
    return start;
  }
}
