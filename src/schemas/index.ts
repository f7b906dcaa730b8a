/**
 * The ESS FlatBuffers schemas the forwarder reads and writes. Per schema: `serialiseX(message)` (bytes identical
 * to the Python reference library's), `deserialiseX(bytes)` (bounds-checked: a bad buffer gives a
 * SchemaDecodeError), and for the messages the forwarder sends per PV a serialiser class bound to one PV name.
 */
export { SchemaDecodeError, type SchemaDecodeFailure, UnsupportedValueError } from './errors.js';
export {
  type F142Value,
  type F144Value,
  F142AlarmSeverity,
  F142AlarmStatus,
  f142AlarmSeverity,
  f142AlarmStatus,
  LogValueTag,
  logValueTag,
  toF142Value,
  toF144Value,
} from './log-value.js';
export { deserialiseF144, F144_IDENTIFIER, type F144Message, F144Serialiser, serialiseF144 } from './f144.js';
export { deserialiseF142, F142_IDENTIFIER, type F142Message, F142Serialiser, serialiseF142 } from './f142.js';
export {
  AL00_IDENTIFIER,
  type Al00Message,
  Al00Serialiser,
  Al00Severity,
  deserialiseAl00,
  serialiseAl00,
} from './al00.js';
export {
  CONNECTION_INFO_OF_STATE,
  ConnectionInfo,
  deserialiseEp01,
  EP01_IDENTIFIER,
  type Ep01Message,
  Ep01Serialiser,
  serialiseEp01,
} from './ep01.js';
export { deserialiseEp00, EP00_IDENTIFIER, type Ep00Message, EventType, serialiseEp00 } from './ep00.js';
export {
  deserialiseTdct,
  serialiseTdct,
  TDCT_IDENTIFIER,
  type TdctMessage,
  TdctSerialiser,
  tdctTimestamps,
} from './tdct.js';
export {
  deserialiseSe00,
  Location,
  type SampleColumns,
  sampleColumns,
  type SampleMessage,
  SE00_IDENTIFIER,
  type Se00Message,
  Se00Serialiser,
  serialiseSe00,
} from './se00.js';
export {
  deserialiseSenv,
  type IntegerArray,
  SENV_IDENTIFIER,
  type SenvMessage,
  SenvSerialiser,
  serialiseSenv,
} from './senv.js';
export {
  AD00_IDENTIFIER,
  type Ad00Attribute,
  type Ad00Message,
  Ad00Serialiser,
  deserialiseAd00,
  DType,
  serialiseAd00,
} from './ad00.js';
export {
  DA00_IDENTIFIER,
  type Da00Message,
  Da00Serialiser,
  Da00Dtype,
  type Da00Variable,
  deserialiseDa00,
  serialiseDa00,
  SIGNAL_VARIABLE,
  UNIQUE_ID_VARIABLE,
} from './da00.js';
export { deserialiseX5f2, serialiseX5f2, X5F2_IDENTIFIER, type X5f2Message } from './x5f2.js';
export {
  deserialiseFc00,
  FC00_IDENTIFIER,
  type Fc00Message,
  type Fc00Stream,
  Protocol,
  serialiseFc00,
  UpdateType,
} from './fc00.js';
export {
  deserialiseRf5k,
  RF5K_IDENTIFIER,
  type Rf5kMessage,
  type Rf5kStream,
  Rf5kUpdateType,
  serialiseRf5k,
} from './rf5k.js';
export {
  type DecodedMessage,
  deserialiseAny,
  type FileIdentifier,
  isFileIdentifier,
  type MessageOf,
  SCHEMA_READERS,
  type SchemaReader,
} from './registry.js';
export { keepable, type MessageBuffer } from './builder.js';
export { type EnumFields, readFileIdentifier } from './reader.js';
export {
  isSchemaOfProtocol,
  OUTPUT_SCHEMAS,
  type OutputSchemaRow,
  SCHEMAS_OF_PROTOCOL,
  unavailableSchemaReason,
  type ValueMessage,
  type ValueSerialiser,
  type ValueSerialiserFactory,
} from './output-schemas.js';
