/**
 * Decoded ESS messages as JSON, for `tail` and `--dry-run`. The fields are those of the decoded message (as
 * src/schemas names them). JSON has no 64-bit integers, so every bigint (timestamps in ns, int64/uint64 values)
 * is written as a decimal string, as Protocol Buffers' JSON mapping does; NaN and infinities, which JSON cannot
 * hold either, become "NaN", "Infinity" and "-Infinity". Typed arrays become arrays; enum fields carry the
 * schema's name for the value ("CONNECTED"), or the number when the schema has no name for it. An image's elements
 * (ad00 and da00 data) are shown by their size only: a frame has millions.
 */
import { type DecodedMessage, type EnumFields, SCHEMA_READERS } from '../schemas/index.js';

/** The decoded message as a JSON-ready value. */
export function messageJson(decoded: DecodedMessage): unknown {
  return jsonValue(briefImages(decoded), SCHEMA_READERS[decoded.schema].enumFields, undefined);
}

/** The schema's name for the value of an enum field (`configChange` 1: "ADD"), or the number when it has none. */
export function enumText(decoded: DecodedMessage, field: string, value: number): string {
  return SCHEMA_READERS[decoded.schema].enumFields[field]?.[value] ?? String(value);
}

function briefImages(decoded: DecodedMessage): DecodedMessage['message'] {
  const size = (data: Uint8Array): string => `${data.length} bytes`;
  switch (decoded.schema) {
    case 'ad00':
      return { ...decoded.message, data: size(decoded.message.data) } as unknown as DecodedMessage['message'];
    case 'da00':
      return {
        ...decoded.message,
        variables: decoded.message.variables.map((variable) =>
          variable.data.length > 64 ? { ...variable, data: size(variable.data) } : variable,
        ),
      } as unknown as DecodedMessage['message'];
    default:
      return decoded.message;
  }
}

function jsonValue(value: unknown, enums: EnumFields, field: string | undefined): unknown {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number': {
      const name = field === undefined ? undefined : enums[field]?.[value];
      if (name !== undefined) return name;
      return Number.isFinite(value) ? value : String(value);
    }
    case 'object':
      if (value === null) return null;
      if (ArrayBuffer.isView(value)) {
        return Array.from(value as unknown as ArrayLike<number | bigint>, (element) =>
          jsonValue(element, enums, undefined),
        );
      }
      if (Array.isArray(value)) return value.map((element) => jsonValue(element, enums, undefined));
      return Object.fromEntries(
        Object.entries(value)
          .filter(([, member]) => member !== undefined)
          .map(([key, member]) => [key, jsonValue(member, enums, key)]),
      );
    default:
      return value;
  }
}

/**
 * The names a message is about, for --source: the PV (source name) of data messages, the service id of a status
 * message, and every stream's PV of a config command.
 */
export function sourceNames(decoded: DecodedMessage): readonly string[] {
  switch (decoded.schema) {
    case 'x5f2':
      return [decoded.message.serviceId];
    case 'fc00':
    case 'rf5k':
      return decoded.message.streams.map((stream) => stream.channel);
    default:
      return [decoded.message.sourceName];
  }
}
