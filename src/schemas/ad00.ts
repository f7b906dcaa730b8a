/**
 * ad00 ADArray: an area-detector array (an NTNDArray) with its shape, element type, unique id, timestamp and
 * NDAttributes. The array's bytes are laid out last and copied once (builder.ts, "Messages around one big
 * array"); the reference serialiser puts them first, so the bytes differ from its own, the decoded values not.
 */
import type { NdAttribute, PvValue } from '../model/update.js';
import {
  ARRAY_DATA_TYPES,
  type ArrayData,
  attributeData,
  imageData,
  imageShape,
  uncompressedImage,
} from './array-data.js';
import {
  createNumericVector,
  finishMessageAroundArray,
  type MessageBuffer,
  startMessageAroundArray,
} from './builder.js';
import { Attribute } from './generated/ad00/attribute.js';
import { lastMapping } from '../util/last-mapping.js';
import { ad00_ADArray as ADArray } from './generated/ad00/ad00-adarray.js';
import { DType } from './generated/ad00/dtype.js';
import { type EnumFields, readRootTable, type TableReader } from './reader.js';

export { DType };

export const AD00_IDENTIFIER = 'ad00';

const SOURCE_NAME = 0;
const ID = 1;
const TIMESTAMP = 2;
const DIMENSIONS = 3;
const DATA_TYPE = 4;
const DATA = 5;
const ATTRIBUTES = 6;

const ATTRIBUTE_NAME = 0;
const ATTRIBUTE_DESCRIPTION = 1;
const ATTRIBUTE_SOURCE = 2;
const ATTRIBUTE_DATA_TYPE = 3;
const ATTRIBUTE_DATA = 4;

export interface Ad00Attribute {
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly dataType: DType;
  /** The value's bytes, little-endian; a string's UTF-8 bytes. */
  readonly data: Uint8Array;
}

export interface Ad00Message {
  readonly sourceName: string;
  readonly uniqueId: number;
  /** ns since the Unix epoch. */
  readonly timestampNs: bigint;
  /** Sizes, slowest-varying first (numpy's shape). */
  readonly dimensions: BigInt64Array;
  readonly dataType: DType;
  /** The elements' bytes, little-endian, in C order. */
  readonly data: Uint8Array;
  readonly attributes: readonly Ad00Attribute[];
}

export const AD00_ENUM_FIELDS: EnumFields = { dataType: DType };

/** ad00's number for an element type. */
export function ad00DataType(type: ArrayData['type']): DType {
  return ARRAY_DATA_TYPES.indexOf(type) as DType;
}

/**
 * Defaults forced, as the reference serialiser does: every field is present in every message. Built in a buffer of
 * its own unless `where` says otherwise (builder.ts, MessageBuffer).
 */
export function serialiseAd00(message: Ad00Message, where: MessageBuffer = 'own'): Uint8Array {
  const { builder, array } = startMessageAroundArray(true, message.data.length);
  const dimensions = createNumericVector(builder, message.dimensions);
  const sourceName = builder.createString(message.sourceName);
  const attributes = message.attributes.map((attribute) => {
    const name = builder.createString(attribute.name);
    const description = builder.createString(attribute.description);
    const source = builder.createString(attribute.source);
    const data = builder.createByteVector(attribute.data);
    return Attribute.createAttribute(builder, name, description, source, attribute.dataType, data);
  });
  const attributeVector = ADArray.createAttributesVector(builder, attributes);
  ADArray.startad00_ADArray(builder);
  ADArray.addSourceName(builder, sourceName);
  ADArray.addDataType(builder, message.dataType);
  ADArray.addDimensions(builder, dimensions);
  ADArray.addId(builder, message.uniqueId);
  ADArray.addData(builder, array);
  ADArray.addTimestamp(builder, message.timestampNs);
  ADArray.addAttributes(builder, attributeVector);
  return finishMessageAroundArray(ADArray.endad00_ADArray(builder), AD00_IDENTIFIER, message.data, where);
}

export function deserialiseAd00(bytes: Uint8Array): Ad00Message {
  const root = readRootTable(bytes, AD00_IDENTIFIER);
  return {
    sourceName: root.string(SOURCE_NAME) ?? root.fail('source_name missing'),
    uniqueId: root.int32(ID),
    timestampNs: root.int64(TIMESTAMP),
    dimensions: root.numericVector(DIMENSIONS, 'int64') ?? root.fail('dimensions missing'),
    dataType: root.int8(DATA_TYPE),
    data: root.numericVector(DATA, 'uint8') ?? root.fail('data missing'),
    attributes: (root.tableVector(ATTRIBUTES) ?? []).map(readAttribute),
  };
}

function readAttribute(table: TableReader): Ad00Attribute {
  return {
    name: table.string(ATTRIBUTE_NAME) ?? table.fail('attribute name missing'),
    description: table.string(ATTRIBUTE_DESCRIPTION) ?? '',
    source: table.string(ATTRIBUTE_SOURCE) ?? '',
    dataType: table.int8(ATTRIBUTE_DATA_TYPE),
    data: table.numericVector(ATTRIBUTE_DATA, 'uint8') ?? table.fail('attribute data missing'),
  };
}

/** Serialises the NTNDArray updates of one PV. */
export class Ad00Serialiser {
  /** The pvAccess decoder hands on the same attributes list while frames repeat it. */
  private readonly attributes = lastMapping((attributes: readonly NdAttribute[]) =>
    attributes.map(ad00Attribute),
  );

  constructor(readonly sourceName: string) {}

  /** Throws UnsupportedValueError for anything but an uncompressed NTNDArray. Built `where` (MessageBuffer). */
  serialise(value: PvValue, timestampNs: bigint, where: MessageBuffer = 'own'): Uint8Array {
    const image = uncompressedImage(value, AD00_IDENTIFIER);
    const data = imageData(image);
    return serialiseAd00(
      {
        sourceName: this.sourceName,
        uniqueId: image.uniqueId,
        timestampNs,
        dimensions: imageShape(image),
        dataType: ad00DataType(data.type),
        data: data.bytes,
        attributes: this.attributes(image.attributes),
      },
      where,
    );
  }
}

function ad00Attribute(attribute: NdAttribute): Ad00Attribute {
  const value = attributeData(attribute.value);
  return {
    name: attribute.name,
    description: attribute.description,
    source: attribute.source,
    dataType: ad00DataType(value.type),
    data: value.bytes,
  };
}
