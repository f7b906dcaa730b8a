/**
 * Channel Access protocol constants (CA 4.13, as spoken by EPICS Base 3.14.12+ and 7.x).
 */

/** The minor protocol version this client speaks; the effective one is min(ours, the server's). */
export const CA_MINOR_VERSION = 13;
/** Servers below this minor version cannot take a dynamic (count 0) subscription. */
export const MINOR_DYNAMIC_COUNT = 13;
/** Servers from this minor version on accept SEARCH over TCP (name servers). */
export const MINOR_TCP_SEARCH = 12;

export const HEADER_SIZE = 16;
export const EXTENDED_HEADER_SIZE = 24;
/** payloadSize value announcing an extended header. */
export const EXTENDED_MARKER = 0xffff;

/** Command codes of the messages a subscribing client sends or receives. */
export const Command = {
  VERSION: 0,
  EVENT_ADD: 1,
  EVENT_CANCEL: 2,
  SEARCH: 6,
  EVENTS_OFF: 8,
  EVENTS_ON: 9,
  ERROR: 11,
  CLEAR_CHANNEL: 12,
  RSRV_IS_UP: 13,
  NOT_FOUND: 14,
  READ_NOTIFY: 15,
  REPEATER_CONFIRM: 17,
  CREATE_CHAN: 18,
  CLIENT_NAME: 20,
  HOST_NAME: 21,
  ACCESS_RIGHTS: 22,
  ECHO: 23,
  REPEATER_REGISTER: 24,
  CREATE_CH_FAIL: 26,
  SERVER_DISCONN: 27,
} as const;
export type Command = (typeof Command)[keyof typeof Command];

/** SEARCH dataType: whether the server answers with NOT_FOUND. */
export const SearchReplyFlag = { DONT_REPLY: 5, DO_REPLY: 10 } as const;

/** UDP VERSION dataType meaning "p1 carries a sequence number". */
export const VERSION_SEQUENCE_VALID = 1;

/** SEARCH reply p1 meaning "the server is at the datagram's source address". */
export const ADDRESS_FROM_SOURCE = 0xffffffff;

/** Native (DBF) types, as numbered in CREATE_CHAN replies and as the index within a DBR class. */
export const NativeType = { STRING: 0, SHORT: 1, FLOAT: 2, ENUM: 3, CHAR: 4, LONG: 5, DOUBLE: 6 } as const;
export type NativeType = (typeof NativeType)[keyof typeof NativeType];
export const NATIVE_TYPE_COUNT = 7;

/** DBR class offsets: DBR type = class + native type. */
export const DbrClass = { PLAIN: 0, STS: 7, TIME: 14, GR: 21, CTRL: 28 } as const;
export type DbrClass = (typeof DbrClass)[keyof typeof DbrClass];
/** DBR types above this (PUT_ACKT, CLASS_NAME, ...) are not value types. */
export const LAST_VALUE_DBR_TYPE = DbrClass.CTRL + NATIVE_TYPE_COUNT - 1;

/** Event masks of EVENT_ADD. */
export const EventMask = { VALUE: 1, LOG: 2, ALARM: 4, PROPERTY: 8 } as const;

/** Access-rights bits of ACCESS_RIGHTS p2. */
export const AccessRight = { READ: 1, WRITE: 2 } as const;

/** ECA status codes that appear on the wire. */
export const EcaStatus = {
  NORMAL: 1,
  ALLOCMEM: 48,
  TOLARGE: 72,
  DISCONNCHID: 106,
  BADTYPE: 114,
  INTERNAL: 142,
  GETFAIL: 152,
  ADDFAIL: 168,
  BADCOUNT: 176,
  DISCONN: 192,
  BADMONID: 242,
  BADMASK: 330,
  NORDACCESS: 368,
  NOWTACCESS: 376,
} as const;

const ecaNames = new Map<number, string>(
  Object.entries(EcaStatus).map(([name, code]) => [code, `ECA_${name}`]),
);

/** "ECA_TOLARGE" for 72; the number for codes this table does not know. */
export function ecaStatusName(code: number): string {
  return ecaNames.get(code) ?? `ECA status ${code}`;
}

/** epicsAlarmCondition names, indexed by CA alarm status. */
export const ALARM_STATUS_NAMES: readonly string[] = [
  'NO_ALARM',
  'READ',
  'WRITE',
  'HIHI',
  'HIGH',
  'LOLO',
  'LOW',
  'STATE',
  'COS',
  'COMM',
  'TIMEOUT',
  'HWLIMIT',
  'CALC',
  'SCAN',
  'LINK',
  'SOFT',
  'BAD_SUB',
  'UDF',
  'DISABLE',
  'SIMM',
  'READ_ACCESS',
  'WRITE_ACCESS',
];

/** The alarm status name; unknown codes are forwarded as their number. */
export function alarmStatusName(status: number): string {
  return ALARM_STATUS_NAMES[status] ?? String(status);
}

/** Seconds from the Unix epoch to the EPICS epoch (1990-01-01 00:00:00 UTC). */
export const EPICS_EPOCH_UNIX_SECONDS = 631_152_000;

export const MAX_STRING_SIZE = 40;
export const MAX_UNITS_SIZE = 8;
export const MAX_ENUM_STRING_SIZE = 26;
export const MAX_ENUM_STATES = 16;

/** Default ports (`EPICS_CA_SERVER_PORT`, `EPICS_CA_REPEATER_PORT`). */
export const DEFAULT_SERVER_PORT = 5064;
export const DEFAULT_REPEATER_PORT = 5065;

/** Search datagrams stay below a typical Ethernet MTU. */
export const MAX_SEARCH_DATAGRAM_BYTES = 1400;
