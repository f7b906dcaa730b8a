/**
 * Introspection (docs/protocols/pvaccess.md, "Introspection"): type descriptions (FieldDesc) with the per-connection type cache.
 *
 * A FieldDesc is one lead byte: 0xFF null, 0xFE + id (a type cached earlier on this connection and direction),
 * 0xFD + id + FieldDesc (define and use), 0xFC + id + tag + FieldDesc (tagged define), or a type code. Structures
 * and unions carry an id string and named members; arrays of structures/unions carry the element description.
 */
import {
  ArrayFlag,
  FieldDescTag,
  MAX_NESTING_DEPTH,
  type ScalarType,
  TypeCode,
  TypeKind,
  scalarTypeByCode,
  scalarTypeCode,
} from './protocol.js';
import { PvaProtocolError, type WireReader, type WireWriter } from './wire.js';

export interface ScalarDesc {
  readonly kind: 'scalar';
  readonly type: ScalarType;
}

export interface ScalarArrayDesc {
  readonly kind: 'scalarArray';
  readonly type: ScalarType;
}

export interface Member {
  readonly name: string;
  readonly type: FieldDesc;
}

export interface StructureDesc {
  readonly kind: 'structure';
  readonly id: string;
  readonly fields: readonly Member[];
}

export interface UnionDesc {
  readonly kind: 'union';
  readonly id: string;
  readonly fields: readonly Member[];
}

/** A variant union ("any"): each value carries its own type. */
export interface AnyDesc {
  readonly kind: 'any';
}

export interface StructureArrayDesc {
  readonly kind: 'structureArray';
  readonly element: StructureDesc;
}

export interface UnionArrayDesc {
  readonly kind: 'unionArray';
  readonly element: UnionDesc;
}

export interface AnyArrayDesc {
  readonly kind: 'anyArray';
}

export type FieldDesc =
  | ScalarDesc
  | ScalarArrayDesc
  | StructureDesc
  | UnionDesc
  | AnyDesc
  | StructureArrayDesc
  | UnionArrayDesc
  | AnyArrayDesc;

/** Shared descriptions of the types that have no parameters. */
export const scalarDesc = Object.fromEntries(
  [...scalarTypeByCode.values()].map((type) => [type, { kind: 'scalar', type }]),
) as Readonly<Record<ScalarType, ScalarDesc>>;
export const scalarArrayDesc = Object.fromEntries(
  [...scalarTypeByCode.values()].map((type) => [type, { kind: 'scalarArray', type }]),
) as Readonly<Record<ScalarType, ScalarArrayDesc>>;
export const anyDesc: AnyDesc = { kind: 'any' };
export const anyArrayDesc: AnyArrayDesc = { kind: 'anyArray' };

export function structure(id: string, fields: Readonly<Record<string, FieldDesc>>): StructureDesc {
  return { kind: 'structure', id, fields: Object.entries(fields).map(([name, type]) => ({ name, type })) };
}

export function union(id: string, fields: Readonly<Record<string, FieldDesc>>): UnionDesc {
  return { kind: 'union', id, fields: Object.entries(fields).map(([name, type]) => ({ name, type })) };
}

/**
 * The types received on one direction of one connection, by cache id. Discarded with the connection.
 * `used` records whether the last decode touched the registry, so callers know whether identical bytes
 * would decode identically without it.
 */
export class TypeRegistry {
  private readonly types = new Map<number, FieldDesc>();
  used = false;

  get(id: number): FieldDesc {
    const type = this.types.get(id);
    if (!type) throw new PvaProtocolError(`reference to unknown cached type id ${id}`);
    return type;
  }

  set(id: number, type: FieldDesc): void {
    this.types.set(id, type);
  }

  get size(): number {
    return this.types.size;
  }

  clear(): void {
    this.types.clear();
  }
}

/** Decodes a FieldDesc; null for the NULL type (0xFF). */
export function decodeFieldDesc(reader: WireReader, registry: TypeRegistry, depth = 0): FieldDesc | null {
  if (depth > MAX_NESTING_DEPTH) throw new PvaProtocolError('type description nested too deeply');
  const lead = reader.u8();
  switch (lead) {
    case FieldDescTag.nullType:
      return null;
    case FieldDescTag.cacheReference:
      registry.used = true;
      return registry.get(reader.u16());
    case FieldDescTag.cacheDefinition:
    case FieldDescTag.tagged: {
      registry.used = true;
      const id = reader.u16();
      if (lead === FieldDescTag.tagged) reader.skip(4);
      const type = decodeFieldDesc(reader, registry, depth + 1);
      if (!type) throw new PvaProtocolError(`cached type ${id} defined as NULL`);
      registry.set(id, type);
      return type;
    }
    default:
      return readTypeCode(lead, reader, registry, depth);
  }
}

function readTypeCode(code: number, reader: WireReader, registry: TypeRegistry, depth: number): FieldDesc {
  if (code >= FieldDescTag.reservedFirst)
    throw new PvaProtocolError(`reserved type code 0x${code.toString(16)}`);
  const arrayFlag = (code >> 3) & 3;
  if (arrayFlag === ArrayFlag.bounded || arrayFlag === ArrayFlag.fixed) {
    throw new PvaProtocolError(`fixed or bounded array type 0x${code.toString(16)} is not supported`);
  }
  const isArray = arrayFlag === ArrayFlag.variable;
  const elementCode = code & ~TypeCode.arrayBit;
  if (code >> 5 !== TypeKind.compound) {
    const type = scalarTypeByCode.get(elementCode);
    if (!type) throw new PvaProtocolError(`unknown type code 0x${code.toString(16)}`);
    return isArray ? scalarArrayDesc[type] : scalarDesc[type];
  }
  switch (elementCode) {
    case TypeCode.structure:
    case TypeCode.union: {
      if (isArray) {
        const element = decodeFieldDesc(reader, registry, depth + 1);
        const expected = elementCode === TypeCode.structure ? 'structure' : 'union';
        if (element?.kind !== expected) {
          throw new PvaProtocolError(`array of ${expected} has element type ${element?.kind ?? 'NULL'}`);
        }
        return element.kind === 'structure'
          ? { kind: 'structureArray', element }
          : { kind: 'unionArray', element: element as UnionDesc };
      }
      const id = reader.string();
      const n = reader.count(2);
      const fields: Member[] = [];
      for (let i = 0; i < n; i++) {
        const name = reader.string();
        const type = decodeFieldDesc(reader, registry, depth + 1);
        if (!type) throw new PvaProtocolError(`member "${name}" has the NULL type`);
        fields.push({ name, type });
      }
      return { kind: elementCode === TypeCode.structure ? 'structure' : 'union', id, fields };
    }
    case TypeCode.any:
      return isArray ? anyArrayDesc : anyDesc;
    default:
      throw new PvaProtocolError(`unknown type code 0x${code.toString(16)}`);
  }
}

/** Encodes a FieldDesc in full (this client never uses the type cache when sending). */
export function encodeFieldDesc(writer: WireWriter, type: FieldDesc | null): void {
  if (!type) {
    writer.u8(FieldDescTag.nullType);
    return;
  }
  switch (type.kind) {
    case 'scalar':
      writer.u8(scalarTypeCode[type.type]);
      return;
    case 'scalarArray':
      writer.u8(scalarTypeCode[type.type] | TypeCode.arrayBit);
      return;
    case 'structure':
    case 'union':
      writer.u8(type.kind === 'structure' ? TypeCode.structure : TypeCode.union);
      writer.string(type.id).size(type.fields.length);
      for (const member of type.fields) {
        writer.string(member.name);
        encodeFieldDesc(writer, member.type);
      }
      return;
    case 'any':
      writer.u8(TypeCode.any);
      return;
    case 'structureArray':
      writer.u8(TypeCode.structure | TypeCode.arrayBit);
      encodeFieldDesc(writer, type.element);
      return;
    case 'unionArray':
      writer.u8(TypeCode.union | TypeCode.arrayBit);
      encodeFieldDesc(writer, type.element);
      return;
    case 'anyArray':
      writer.u8(TypeCode.any | TypeCode.arrayBit);
      return;
  }
}

/** A compact human-readable rendering, for logs and error messages. */
export function describeType(type: FieldDesc | null): string {
  if (!type) return 'NULL';
  switch (type.kind) {
    case 'scalar':
      return type.type;
    case 'scalarArray':
      return `${type.type}[]`;
    case 'structure':
    case 'union': {
      const members = type.fields.map((m) => `${m.name}: ${describeType(m.type)}`).join(', ');
      return `${type.kind}${type.id ? ` ${type.id}` : ''} {${members}}`;
    }
    case 'any':
      return 'any';
    case 'structureArray':
    case 'unionArray':
      return `${describeType(type.element)}[]`;
    case 'anyArray':
      return 'any[]';
  }
}
