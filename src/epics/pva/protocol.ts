/**
 * pvAccess protocol constants: message header, commands, flags, type codes and sub-commands.
 * Byte layouts are described where they are encoded and decoded; this module only names the numbers.
 */

/** First byte of every message header. */
export const PVA_MAGIC = 0xca;

/** Protocol version this client announces (pvxs and pvAccessCPP send 2). */
export const PVA_VERSION = 2;

/** Size of the fixed message header. */
export const HEADER_SIZE = 8;

/** Default ports (overridden by EPICS_PVA_BROADCAST_PORT and EPICS_PVA_SERVER_PORT). */
export const DEFAULT_BROADCAST_PORT = 5076;
export const DEFAULT_SERVER_PORT = 5075;

/** Header flag bits (byte 2). */
export const HeaderFlag = {
  control: 0x01,
  segmentMask: 0x30,
  segmentFirst: 0x10,
  segmentLast: 0x20,
  segmentMiddle: 0x30,
  fromServer: 0x40,
  bigEndian: 0x80,
} as const;

/** Control message codes (header byte 3 when the control flag is set). */
export const ControlCommand = {
  markTotalBytesSent: 0,
  acknowledgeTotalBytesReceived: 1,
  setByteOrder: 2,
  echoRequest: 3,
  echoResponse: 4,
} as const;

/** Application message commands (header byte 3). */
export const Command = {
  beacon: 0x00,
  connectionValidation: 0x01,
  echo: 0x02,
  search: 0x03,
  searchResponse: 0x04,
  authNZ: 0x05,
  aclChange: 0x06,
  createChannel: 0x07,
  destroyChannel: 0x08,
  connectionValidated: 0x09,
  get: 0x0a,
  put: 0x0b,
  putGet: 0x0c,
  monitor: 0x0d,
  array: 0x0e,
  destroyRequest: 0x0f,
  process: 0x10,
  getField: 0x11,
  message: 0x12,
  multipleData: 0x13,
  rpc: 0x14,
  cancelRequest: 0x15,
  originTag: 0x16,
} as const;

/** Names of commands, for log messages. */
export const commandName: ReadonlyMap<number, string> = new Map(
  Object.entries(Command).map(([name, code]) => [code, name]),
);

/** MONITOR sub-command bits. */
export const MonitorSubcommand = {
  /** Plain update (server to client). */
  update: 0x00,
  stop: 0x04,
  init: 0x08,
  destroy: 0x10,
  /** The final message of a subscription (server to client). */
  final: 0x10,
  start: 0x44,
  /** Pipeline flag: with init it announces the window, alone it acknowledges updates. */
  pipeline: 0x80,
} as const;

/** SEARCH flags. */
export const SearchFlag = {
  mustReply: 0x01,
  unicast: 0x80,
} as const;

/** Status type byte. 0xFF is OK without a message. */
export const StatusType = {
  ok: 0,
  warning: 1,
  error: 2,
  fatal: 3,
  okShort: 0xff,
} as const;

/** Names of status types, for messages. */
export const statusTypeName = ['OK', 'WARNING', 'ERROR', 'FATAL'] as const;

/** MESSAGE types. */
export const MessageType = { info: 0, warning: 1, error: 2, fatal: 3 } as const;

/** FieldDesc lead bytes that are not type codes. */
export const FieldDescTag = {
  nullType: 0xff,
  cacheReference: 0xfe,
  cacheDefinition: 0xfd,
  tagged: 0xfc,
  /** 0xE0..0xFB are reserved. */
  reservedFirst: 0xe0,
} as const;

/** Size encoding markers. */
export const SizeMarker = {
  /** Values up to this fit in the one byte. */
  maxShort: 0xfd,
  /** Followed by an i32 count. */
  long: 0xfe,
  /** Null (e.g. a null string), also the empty union selector. */
  nullValue: 0xff,
} as const;

/** Type code layout: kind in bits 5-7, array flag in bits 3-4, detail in bits 0-2. */
export const TypeKind = { boolean: 0, integer: 1, float: 2, string: 3, compound: 4 } as const;
export const ArrayFlag = { scalar: 0, variable: 1, bounded: 2, fixed: 3 } as const;

/** Type codes of scalars and compounds (arrays add 0x08). */
export const TypeCode = {
  boolean: 0x00,
  int8: 0x20,
  int16: 0x21,
  int32: 0x22,
  int64: 0x23,
  uint8: 0x24,
  uint16: 0x25,
  uint32: 0x26,
  uint64: 0x27,
  float32: 0x42,
  float64: 0x43,
  string: 0x60,
  structure: 0x80,
  union: 0x81,
  any: 0x82,
  /** OR-ed into a scalar or compound code for a variable-size array. */
  arrayBit: 0x08,
} as const;

/** Scalar element types of pvData. */
export type ScalarType =
  | 'boolean'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'string';

/** Scalar type by scalar type code. */
export const scalarTypeByCode: ReadonlyMap<number, ScalarType> = new Map<number, ScalarType>([
  [TypeCode.boolean, 'boolean'],
  [TypeCode.int8, 'int8'],
  [TypeCode.int16, 'int16'],
  [TypeCode.int32, 'int32'],
  [TypeCode.int64, 'int64'],
  [TypeCode.uint8, 'uint8'],
  [TypeCode.uint16, 'uint16'],
  [TypeCode.uint32, 'uint32'],
  [TypeCode.uint64, 'uint64'],
  [TypeCode.float32, 'float32'],
  [TypeCode.float64, 'float64'],
  [TypeCode.string, 'string'],
]);

/** Type code by scalar type. */
export const scalarTypeCode: Readonly<Record<ScalarType, number>> = {
  boolean: TypeCode.boolean,
  int8: TypeCode.int8,
  int16: TypeCode.int16,
  int32: TypeCode.int32,
  int64: TypeCode.int64,
  uint8: TypeCode.uint8,
  uint16: TypeCode.uint16,
  uint32: TypeCode.uint32,
  uint64: TypeCode.uint64,
  float32: TypeCode.float32,
  float64: TypeCode.float64,
  string: TypeCode.string,
};

/** Encoded size of one element of the fixed-size scalar types (strings are variable). */
export const scalarByteSize: Readonly<Record<Exclude<ScalarType, 'string'>, number>> = {
  boolean: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  float32: 4,
  float64: 8,
};

/** Authentication methods this client can answer with, in order of preference. */
export const AuthMethod = { ca: 'ca', anonymous: 'anonymous' } as const;

/** Advisory sizes announced in CONNECTION_VALIDATION (pvxs uses the same). */
export const CLIENT_RECEIVE_BUFFER_SIZE = 0x10000;
export const CLIENT_REGISTRY_MAX_SIZE = 0x7fff;

/** Protocol name for plain TCP in SEARCH and SEARCH_RESPONSE. */
export const TCP_PROTOCOL = 'tcp';

/** pvxs keeps each search datagram at or below this size. */
export const MAX_SEARCH_DATAGRAM = 1400;

/** Nesting limit for type descriptions and values: deeper input is rejected rather than recursed into. */
export const MAX_NESTING_DEPTH = 20;
