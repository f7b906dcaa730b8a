/**
 * The protocol-neutral model of what an EPICS client delivers to the forwarder.
 *
 * Channel Access, pvAccess and the fake provider all translate their wire data into these types, so the
 * forwarding pipeline and the serialisers never see protocol details. Timestamps are nanoseconds since the
 * Unix epoch as bigint (they exceed 2^53).
 */

/** Numeric element types, named after the EPICS/pvAccess scalar types they carry. */
export type NumericType =
  'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

/** The typed array used for arrays of each numeric element type. */
export interface NumericArrayOf {
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  float32: Float32Array;
  float64: Float64Array;
}

export type NumericArray = NumericArrayOf[NumericType];

/** A scalar is a JS number, except 64-bit integers which are bigint so no precision is lost. */
export type NumericScalarOf<T extends NumericType> = T extends 'int64' | 'uint64' ? bigint : number;

export type NumericScalarValue = {
  [T in NumericType]: { readonly kind: 'scalar'; readonly type: T; readonly value: NumericScalarOf<T> };
}[NumericType];

export type NumericArrayValue = {
  [T in NumericType]: { readonly kind: 'array'; readonly type: T; readonly value: NumericArrayOf[T] };
}[NumericType];

export interface StringValue {
  readonly kind: 'string';
  readonly value: string;
}

export interface StringArrayValue {
  readonly kind: 'stringArray';
  readonly value: readonly string[];
}

export interface BooleanValue {
  readonly kind: 'boolean';
  readonly value: boolean;
}

export interface BooleanArrayValue {
  readonly kind: 'booleanArray';
  readonly value: readonly boolean[];
}

/** An enumerated value (CA DBR_ENUM, pvAccess NTEnum): the index, with the state strings when known. */
export interface EnumValue {
  readonly kind: 'enum';
  readonly index: number;
  readonly choices?: readonly string[];
}

/** One column of a table; numeric columns are typed arrays. */
export type TableColumn = NumericArrayValue | StringArrayValue | BooleanArrayValue;

/** A pvAccess NTTable: columns in label order. */
export interface TableValue {
  readonly kind: 'table';
  readonly columns: ReadonlyMap<string, TableColumn>;
}

/** One NDAttribute of an area-detector array: a number, an array of numbers or a string. */
export interface NdAttribute {
  readonly name: string;
  readonly value: NumericScalarValue | NumericArrayValue | StringValue;
  readonly description: string;
  /** Where the attribute's value comes from: a PV name, a driver parameter, ... */
  readonly source: string;
}

/** An area-detector array's element type: a numeric type, or booleans (one byte each, 0 or 1). */
export type NdElementType = NumericType | 'boolean';

/** An area-detector array: a pvAccess NTNDArray, as areaDetector's NDPluginPva serves it. */
export interface NdArrayValue {
  readonly kind: 'ndarray';
  readonly type: NdElementType;
  /**
   * The elements, dimension 0 varying fastest, over the received bytes where their alignment allows (booleans as
   * a Uint8Array). A compressed array holds its compressed bytes here.
   */
  readonly data: NumericArray;
  /** The size of each dimension, in NTNDArray order: dimension 0 (x, varying fastest) first. */
  readonly dimensions: readonly number[];
  readonly uniqueId: number;
  /** The codec that compressed `data` (lz4, bslz4, blosc, jpeg, ...); '' when uncompressed. */
  readonly codec: string;
  readonly attributes: readonly NdAttribute[];
}

export type PvValue =
  | NumericScalarValue
  | NumericArrayValue
  | StringValue
  | StringArrayValue
  | BooleanValue
  | BooleanArrayValue
  | EnumValue
  | TableValue
  | NdArrayValue;

/** EPICS alarm severities, in EPICS order. */
export const AlarmSeverity = { NO_ALARM: 0, MINOR: 1, MAJOR: 2, INVALID: 3 } as const;
export type AlarmSeverity = (typeof AlarmSeverity)[keyof typeof AlarmSeverity];

/** Alarm state attached to an update. */
export interface Alarm {
  /** EPICS severity: 0 NO_ALARM, 1 MINOR, 2 MAJOR, 3 INVALID. */
  readonly severity: number;
  /** EPICS alarm status code (CA status, pvAccess alarm.status). */
  readonly status: number;
  /** Alarm message: the status name over CA ("HIHI", "NO_ALARM"), alarm.message verbatim over pvAccess. */
  readonly message: string;
}

/** Display metadata that changes rarely (CA DBR_CTRL / DBE_PROPERTY, pvAccess display.*). */
export interface Display {
  readonly units?: string;
  readonly precision?: number;
}

/** One value update of a PV. */
export interface PvUpdate {
  readonly value: PvValue;
  /** EPICS timestamp of the update, ns since the Unix epoch. */
  readonly timestampNs: bigint;
  readonly alarm: Alarm;
  readonly display?: Display;
}

/** Connection states, as carried by ep01 messages. */
export type ConnectionState =
  'connected' | 'disconnected' | 'destroyed' | 'cancelled' | 'finished' | 'remote_error' | 'unknown';

export interface ConnectionEvent {
  readonly state: ConnectionState;
  /** Local wall-clock time of the event, ns since the Unix epoch. */
  readonly timestampNs: bigint;
  /** The server's address when connected; why not, when the client knows (error text). */
  readonly detail?: string;
  /** Connected, but the PV's type cannot be expressed in this model (a structure array): why. No update follows. */
  readonly unsupported?: string;
}

/** What a subscriber receives. Listeners must not throw; a client logs and counts what they throw. */
export interface SubscriptionListener {
  onUpdate(update: PvUpdate): void;
  onConnection(event: ConnectionEvent): void;
}

/** A live subscription; cancel() is idempotent and never affects other subscriptions of the same PV. */
export interface Subscription {
  cancel(): void;
}

/** An EPICS client as the forwarder uses it: one per protocol, shared by every stream of that protocol. */
export interface PvProvider {
  subscribe(pvName: string, listener: SubscriptionListener): Subscription;
  /** Cancels every subscription and releases sockets and timers. */
  close(): Promise<void>;
}

/** Current wall-clock time in ns since the Unix epoch. */
export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** How many distinct alarms or displays a client keeps for sharing; beyond that, new ones are not shared. */
const MAX_SHARED_VALUES = 4096;

/**
 * Keeps `value` in `cache` under `key` while the cache has room, and returns it. Alarms and displays are
 * immutable and few, so thousands of channels can share one object each instead of holding their own: callers
 * look the key up first (`cache.get(key) ?? shareValue(cache, key, made)`), so a hit allocates nothing.
 */
export function shareValue<K, V>(cache: Map<K, V>, key: K, value: V): V {
  if (cache.size < MAX_SHARED_VALUES) cache.set(key, value);
  return value;
}
