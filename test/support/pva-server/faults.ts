/**
 * What the fake pvAccess server does on demand that real servers do not, for the client's edge cases: messages
 * split into segments with control messages between them, structures and unions described through the 0xFD/0xFE
 * type cache, a malformed datagram before a search reply, and "any" spelled as sixteen zeros.
 */
import { beginMessage, encodeControl, endMessage } from '../../../src/epics/pva/header.js';
import { type FieldDesc, encodeFieldDesc } from '../../../src/epics/pva/introspection.js';
import {
  Command,
  ControlCommand,
  FieldDescTag,
  HEADER_SIZE,
  HeaderFlag,
  PVA_MAGIC,
  PVA_VERSION,
  TypeCode,
} from '../../../src/epics/pva/protocol.js';
import type { WireWriter } from '../../../src/epics/pva/wire.js';

/**
 * One application message as segments of at most `segmentSize` payload bytes, each written by a fresh `writer()`;
 * with `interleaveControl`, a control message follows every segment after the first.
 */
export function segments(
  message: Buffer,
  segmentSize: number,
  interleaveControl: boolean,
  writer: () => WireWriter,
): Buffer[] {
  const payloadSize = message.length - HEADER_SIZE;
  const command = message[3] as number;
  const out: Buffer[] = [];
  for (let offset = 0; offset < payloadSize; offset += segmentSize) {
    const last = offset + segmentSize >= payloadSize;
    const segment =
      offset === 0 ? HeaderFlag.segmentFirst : last ? HeaderFlag.segmentLast : HeaderFlag.segmentMiddle;
    const output = writer();
    const start = beginMessage(output, command, true, segment);
    output.bytes(
      message.subarray(HEADER_SIZE + offset, HEADER_SIZE + Math.min(payloadSize, offset + segmentSize)),
    );
    endMessage(output, start);
    if (interleaveControl && offset > 0) {
      encodeControl(output, ControlCommand.markTotalBytesSent, offset, true);
    }
    out.push(output.take());
  }
  return out;
}

/**
 * Type descriptions of one connection: each structure and union defined once (0xFD) and referred to after (0xFE).
 */
export class CachedTypeWriter {
  private readonly ids = new Map<FieldDesc, number>();

  write(writer: WireWriter, type: FieldDesc): void {
    switch (type.kind) {
      case 'structure':
      case 'union': {
        const known = this.ids.get(type);
        if (known !== undefined) {
          writer.u8(FieldDescTag.cacheReference).u16(known);
          return;
        }
        const id = this.ids.size + 1;
        this.ids.set(type, id);
        writer.u8(FieldDescTag.cacheDefinition).u16(id);
        writer.u8(type.kind === 'structure' ? TypeCode.structure : TypeCode.union);
        writer.string(type.id).size(type.fields.length);
        for (const member of type.fields) {
          writer.string(member.name);
          this.write(writer, member.type);
        }
        return;
      }
      case 'structureArray':
      case 'unionArray':
        writer.u8((type.kind === 'structureArray' ? TypeCode.structure : TypeCode.union) | TypeCode.arrayBit);
        this.write(writer, type.element);
        return;
      default:
        encodeFieldDesc(writer, type);
    }
  }
}

/** A search reply header announcing more payload than the datagram holds. */
export const MALFORMED_SEARCH_RESPONSE = Buffer.from([
  PVA_MAGIC,
  PVA_VERSION,
  HeaderFlag.fromServer,
  Command.searchResponse,
  100,
  0,
  0,
  0,
]);

/** Replaces a search response's ::ffff:0.0.0.0 server address by sixteen zeros (the other spelling of "any"). */
export function spellAnyAsZeros(searchResponse: Buffer): void {
  const address = HEADER_SIZE + 12 + 4;
  searchResponse.fill(0, address, address + 16);
}
