/** f144 LogData: a PV value (number or 1-D array of numbers) with its timestamp. */
import type { NumericArrayValue, NumericType, PvValue } from '../model/update.js';
import type { EpicsProtocol } from '../model/protocol.js';
import { finishMessage, type MessageBuffer, messageBuffer, startMessage } from './builder.js';
import { f144_LogData as LogData } from './generated/f144/f144-log-data.js';
import { createLogValue, type F144Value, logValueTag, readLogValue, toF144Value } from './log-value.js';
import { bytesOf, sizeOf } from './numeric.js';
import { isNonZero, keptTemplateBytes, type MessageTemplate, patchInt64, patchScalar } from './patch.js';
import { readRootTable } from './reader.js';

export const F144_IDENTIFIER = 'f144';

const SOURCE_NAME = 0;
const TIMESTAMP = 1;
const VALUE_TYPE = 2;
const VALUE = 3;

export interface F144Message {
  /** PV name. */
  readonly sourceName: string;
  /** ns since the Unix epoch. */
  readonly timestampNs: bigint;
  readonly value: F144Value;
}

export function serialiseF144(message: F144Message): Uint8Array {
  return buildF144(message.sourceName, message.value, message.timestampNs);
}

/** The Python reference's call order, so the bytes equal `serialise_f144`'s (no forced defaults). */
function buildF144(sourceName: string, value: F144Value, timestampNs: bigint): Uint8Array {
  const builder = startMessage(false);
  const name = builder.createString(sourceName);
  const valueTable = createLogValue(builder, value);
  LogData.startf144_LogData(builder);
  LogData.addSourceName(builder, name);
  LogData.addValue(builder, valueTable);
  LogData.addValueType(builder, logValueTag(value));
  LogData.addTimestamp(builder, timestampNs);
  return finishMessage(LogData.endf144_LogData(builder), F144_IDENTIFIER);
}

export function deserialiseF144(bytes: Uint8Array): F144Message {
  const root = readRootTable(bytes, F144_IDENTIFIER);
  const value = readLogValue(root, VALUE_TYPE, false) as F144Value;
  return { sourceName: root.string(SOURCE_NAME) ?? '', timestampNs: root.int64(TIMESTAMP), value };
}

/**
 * A built array message cut around its element data: a message for another array of the same type and length
 * is head + elements + tail, with the timestamp patched.
 */
interface ArrayTemplate {
  readonly tag: number;
  readonly length: number;
  readonly hasTimestamp: boolean;
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
  readonly timestampAt: number;
}

/** Scalar templates of one union tag, by which of timestamp and value are non-zero (zero fields are omitted). */
type ScalarTemplates = [
  MessageTemplate | undefined,
  MessageTemplate | undefined,
  MessageTemplate | undefined,
  MessageTemplate | undefined,
];

/**
 * Serialises the updates of one PV from prebuilt buffers (see patch.ts): a scalar message costs one copy of a
 * buffer per layout, an array message one copy of its elements into a buffer laid out for its type and length.
 */
export class F144Serialiser {
  /** The union tag of the last scalar; a PV's type rarely changes, so only that tag's templates are kept. */
  private scalarTag = -1;
  private scalarTemplates: ScalarTemplates = [undefined, undefined, undefined, undefined];
  /** For the last array type and length; a PV's arrays rarely change length. */
  private arrayTemplate: ArrayTemplate | undefined;

  constructor(
    readonly sourceName: string,
    readonly protocol: EpicsProtocol,
  ) {}

  /**
   * Throws UnsupportedValueError for values f144 cannot carry (strings, booleans, tables). Built `where`
   * (builder.ts, MessageBuffer).
   */
  serialise(value: PvValue, timestampNs: bigint, where: MessageBuffer = 'own'): Uint8Array {
    const mapped = toF144Value(value, this.protocol);
    if (mapped.kind === 'array') return this.serialiseArray(mapped, timestampNs, where);
    const tag = logValueTag(mapped);
    if (tag !== this.scalarTag) {
      this.scalarTag = tag;
      this.scalarTemplates = [undefined, undefined, undefined, undefined];
    }
    const layout = (timestampNs === 0n ? 0 : 1) + (isNonZero(mapped) ? 2 : 0);
    let template = this.scalarTemplates[layout];
    if (template === undefined) {
      template = scalarTemplate(buildF144(this.sourceName, mapped, timestampNs), mapped.type);
      this.scalarTemplates[layout] = template;
    }
    const out = messageBuffer(template.bytes.length, where);
    out.set(template.bytes);
    if (template.timestampAt !== 0) patchInt64(out, template.timestampAt, timestampNs);
    if (template.valueAt !== 0) patchScalar(out, template.valueAt, mapped);
    return out;
  }

  private serialiseArray(value: NumericArrayValue, timestampNs: bigint, where: MessageBuffer): Uint8Array {
    const tag = logValueTag(value);
    const hasTimestamp = timestampNs !== 0n;
    let template = this.arrayTemplate;
    if (
      template?.tag !== tag ||
      template.length !== value.value.length ||
      template.hasTimestamp !== hasTimestamp
    ) {
      template = arrayTemplate(buildF144(this.sourceName, value, timestampNs), value);
      this.arrayTemplate = template;
    }
    const elements = bytesOf(value.value);
    const out = messageBuffer(template.head.length + elements.length + template.tail.length, where);
    out.set(template.head);
    out.set(elements, template.head.length);
    out.set(template.tail, template.head.length + elements.length);
    if (template.timestampAt !== 0) patchInt64(out, template.timestampAt, timestampNs);
    return out;
  }
}

function arrayTemplate(bytes: Uint8Array, value: NumericArrayValue): ArrayTemplate {
  const root = readRootTable(bytes, F144_IDENTIFIER);
  const vector = root.table(VALUE)?.vectorPosition(0, sizeOf(value.type));
  if (vector === null || vector === undefined) throw new Error('f144 array message without its vector');
  return {
    tag: logValueTag(value),
    length: value.value.length,
    hasTimestamp: root.has(TIMESTAMP),
    head: keptTemplateBytes(bytes.subarray(0, vector.start)),
    tail: keptTemplateBytes(bytes.subarray(vector.start + value.value.byteLength)),
    timestampAt: root.fieldPosition(TIMESTAMP, 8),
  };
}

function scalarTemplate(bytes: Uint8Array, type: NumericType): MessageTemplate {
  const root = readRootTable(bytes, F144_IDENTIFIER);
  return {
    bytes: keptTemplateBytes(bytes),
    timestampAt: root.fieldPosition(TIMESTAMP, 8),
    valueAt: root.table(VALUE)?.fieldPosition(0, sizeOf(type)) ?? 0,
  };
}
