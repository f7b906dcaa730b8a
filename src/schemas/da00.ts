/**
 * da00 DataArray: named variables with axes. The forwarder sends an NTNDArray as the variable `signal` (the name
 * ESS's consumers read as the data) with axes named x, y, z, ... from dimension 0 on, listed slowest-varying
 * first; its unique id as the variable `unique_id`; and each NDAttribute as a variable of its own name, without
 * axes, its description as the label. As in ad00, the image's bytes are laid out last and copied once.
 */
import type { NdArrayValue, NdAttribute, PvValue } from '../model/update.js';
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
  createStringVector,
  finishMessageAroundArray,
  type MessageBuffer,
  startMessageAroundArray,
} from './builder.js';
import type { Builder, Offset } from 'flatbuffers';
import { da00_DataArray as DataArray } from './generated/da00/da00-data-array.js';
import { da00_dtype as Da00Dtype } from './generated/da00/da00-dtype.js';
import { da00_Variable as Variable } from './generated/da00/da00-variable.js';
import { bytesOf, sizeOf } from './numeric.js';
import { lastMapping } from '../util/last-mapping.js';
import { type EnumFields, readRootTable, type TableReader } from './reader.js';

export { Da00Dtype };

export const DA00_IDENTIFIER = 'da00';

const SOURCE_NAME = 0;
const TIMESTAMP = 1;
const DATA = 2;

const NAME = 0;
const UNIT = 1;
const LABEL = 2;
const SOURCE = 3;
const DATA_TYPE = 4;
const AXES = 5;
const SHAPE = 6;
const VARIABLE_DATA = 7;

/** The variable holding the image, and the one holding its unique id. */
export const SIGNAL_VARIABLE = 'signal';
export const UNIQUE_ID_VARIABLE = 'unique_id';

export interface Da00Variable {
  readonly name: string;
  readonly unit?: string;
  readonly label?: string;
  readonly source?: string;
  readonly dataType: Da00Dtype;
  /** Axis names, slowest-varying first; none for a scalar. */
  readonly axes: readonly string[];
  readonly shape: BigInt64Array;
  /** The elements' bytes, little-endian, in C order; a string's UTF-8 bytes. */
  readonly data: Uint8Array;
}

export interface Da00Message {
  readonly sourceName: string;
  /** ns since the Unix epoch. */
  readonly timestampNs: bigint;
  /** The first is laid out last in the message, so that its data is copied once. */
  readonly variables: readonly Da00Variable[];
}

export const DA00_ENUM_FIELDS: EnumFields = { dataType: Da00Dtype };

/** da00's number for an element type (after its `none`). */
export function da00DataType(type: ArrayData['type']): Da00Dtype {
  return (ARRAY_DATA_TYPES.indexOf(type) + 1) as Da00Dtype;
}

/** Defaults forced, as the reference serialiser does. Built in a buffer of its own unless `where` says otherwise. */
export function serialiseDa00(message: Da00Message, where: MessageBuffer = 'own'): Uint8Array {
  const [first, ...others] = message.variables;
  if (first === undefined) throw new RangeError('a da00 message needs at least one variable');
  const { builder, array } = startMessageAroundArray(true, first.data.length);
  const tables = [createVariable(builder, first, array)];
  for (const variable of others) {
    tables.push(createVariable(builder, variable, builder.createByteVector(variable.data)));
  }
  const variables = DataArray.createDataVector(builder, tables);
  const sourceName = builder.createString(message.sourceName);
  DataArray.startda00_DataArray(builder);
  DataArray.addSourceName(builder, sourceName);
  DataArray.addTimestamp(builder, message.timestampNs);
  DataArray.addData(builder, variables);
  return finishMessageAroundArray(DataArray.endda00_DataArray(builder), DA00_IDENTIFIER, first.data, where);
}

function createVariable(builder: Builder, variable: Da00Variable, data: Offset): Offset {
  const optional = (text: string | undefined): Offset =>
    text === undefined ? 0 : builder.createString(text);
  const source = optional(variable.source);
  const label = optional(variable.label);
  const unit = optional(variable.unit);
  const name = builder.createString(variable.name);
  const shape = createNumericVector(builder, variable.shape);
  const axes = createStringVector(builder, variable.axes);
  Variable.startda00_Variable(builder);
  Variable.addName(builder, name);
  if (unit !== 0) Variable.addUnit(builder, unit);
  if (label !== 0) Variable.addLabel(builder, label);
  if (source !== 0) Variable.addSource(builder, source);
  Variable.addDataType(builder, variable.dataType);
  Variable.addAxes(builder, axes);
  Variable.addShape(builder, shape);
  Variable.addData(builder, data);
  return Variable.endda00_Variable(builder);
}

export function deserialiseDa00(bytes: Uint8Array): Da00Message {
  const root = readRootTable(bytes, DA00_IDENTIFIER);
  return {
    sourceName: root.string(SOURCE_NAME) ?? root.fail('source_name missing'),
    timestampNs: root.uint64(TIMESTAMP),
    variables: (root.tableVector(DATA) ?? root.fail('data missing')).map(readVariable),
  };
}

function readVariable(table: TableReader): Da00Variable {
  const unit = table.string(UNIT);
  const label = table.string(LABEL);
  const source = table.string(SOURCE);
  return {
    name: table.string(NAME) ?? table.fail('variable name missing'),
    ...(unit === null ? {} : { unit }),
    ...(label === null ? {} : { label }),
    ...(source === null ? {} : { source }),
    dataType: table.int8(DATA_TYPE),
    axes: table.stringVector(AXES) ?? table.fail('axes missing'),
    shape: table.numericVector(SHAPE, 'int64') ?? table.fail('shape missing'),
    data: table.numericVector(VARIABLE_DATA, 'uint8') ?? table.fail('variable data missing'),
  };
}

/** x, y, z for dimensions 0, 1, 2 (dim_3, ... beyond), listed slowest-varying first. */
function imageAxes(rank: number): string[] {
  const axes: string[] = [];
  for (let dimension = rank - 1; dimension >= 0; dimension--) {
    axes.push(['x', 'y', 'z'][dimension] ?? `dim_${dimension}`);
  }
  return axes;
}

/** A variable without axes: an attribute's value, the unique id. */
function variableWithoutAxes(name: string, data: ArrayData, label: string, source: string): Da00Variable {
  return {
    name,
    ...(label === '' ? {} : { label }),
    ...(source === '' ? {} : { source }),
    dataType: da00DataType(data.type),
    axes: [],
    shape: BigInt64Array.of(BigInt(data.bytes.length / elementSize(data))),
    data: data.bytes,
  };
}

function elementSize(data: ArrayData): number {
  return data.type === 'c_string' ? 1 : sizeOf(data.type);
}

/** Serialises the NTNDArray updates of one PV. */
export class Da00Serialiser {
  /** The pvAccess decoder hands on the same attributes list while frames repeat it. */
  private readonly attributes = lastMapping(attributeVariables);

  constructor(readonly sourceName: string) {}

  /**
   * Throws UnsupportedValueError for anything but an uncompressed NTNDArray. Attributes named like the image's
   * own variables (signal, unique_id) are left out, as a DataArray's variable names are unique. Built `where`
   * (MessageBuffer).
   */
  serialise(value: PvValue, timestampNs: bigint, where: MessageBuffer = 'own'): Uint8Array {
    const image = uncompressedImage(value, DA00_IDENTIFIER);
    const variables = imageVariables(image, this.attributes(image.attributes));
    return serialiseDa00({ sourceName: this.sourceName, timestampNs, variables }, where);
  }
}

function imageVariables(image: NdArrayValue, attributes: readonly Da00Variable[]): Da00Variable[] {
  const data = imageData(image);
  const shape = imageShape(image);
  return [
    {
      name: SIGNAL_VARIABLE,
      dataType: da00DataType(data.type),
      axes: imageAxes(shape.length),
      shape,
      data: data.bytes,
    },
    variableWithoutAxes(
      UNIQUE_ID_VARIABLE,
      { type: 'int32', bytes: bytesOf(Int32Array.of(image.uniqueId)) },
      '',
      '',
    ),
    ...attributes,
  ];
}

function attributeVariables(attributes: readonly NdAttribute[]): Da00Variable[] {
  return attributes
    .filter((attribute) => attribute.name !== SIGNAL_VARIABLE && attribute.name !== UNIQUE_ID_VARIABLE)
    .map((attribute) =>
      variableWithoutAxes(
        attribute.name,
        attributeData(attribute.value),
        attribute.description,
        attribute.source,
      ),
    );
}
