/** f142 LogData (deprecated): a PV value, including strings, with its timestamp and EPICS alarm. */
import type { PvUpdate } from '../model/update.js';
import type { EpicsProtocol } from '../model/protocol.js';
import { finishMessage, startMessage } from './builder.js';
import { LogData } from './generated/f142/log-data.js';
import {
  createLogValue,
  f142AlarmSeverity,
  F142AlarmSeverity,
  f142AlarmStatus,
  F142AlarmStatus,
  type F142Value,
  logValueTag,
  readLogValue,
  toF142Value,
} from './log-value.js';
import { type EnumFields, readRootTable } from './reader.js';

export const F142_IDENTIFIER = 'f142';

const SOURCE_NAME = 0;
const VALUE_TYPE = 1;
const TIMESTAMP = 3;
const STATUS = 4;
const SEVERITY = 5;

export interface F142Message {
  readonly sourceName: string;
  /** ns since the Unix epoch (unsigned on the wire; 0 means invalid). */
  readonly timestampNs: bigint;
  readonly value: F142Value;
  /** F142AlarmStatus; NO_CHANGE (22) is not written, and is what an absent field reads as. */
  readonly alarmStatus: F142AlarmStatus;
  /** F142AlarmSeverity (not EPICS order); NO_CHANGE (4) is not written, and is what an absent field reads as. */
  readonly alarmSeverity: F142AlarmSeverity;
}

export const F142_ENUM_FIELDS: EnumFields = {
  alarmStatus: F142AlarmStatus,
  alarmSeverity: F142AlarmSeverity,
};

export function serialiseF142(message: F142Message): Uint8Array {
  return buildF142(message.sourceName, message);
}

/** The Python reference's call order (defaults forced), so the bytes equal `serialise_f142`'s. */
function buildF142(sourceName: string | Uint8Array, message: Omit<F142Message, 'sourceName'>): Uint8Array {
  const builder = startMessage(true);
  const name = builder.createString(sourceName);
  const valueTable = createLogValue(builder, message.value);
  LogData.startLogData(builder);
  LogData.addSourceName(builder, name);
  LogData.addValue(builder, valueTable);
  LogData.addValueType(builder, logValueTag(message.value));
  LogData.addTimestamp(builder, message.timestampNs);
  if (message.alarmStatus !== F142AlarmStatus.NO_CHANGE) LogData.addStatus(builder, message.alarmStatus);
  if (message.alarmSeverity !== F142AlarmSeverity.NO_CHANGE)
    LogData.addSeverity(builder, message.alarmSeverity);
  return finishMessage(LogData.endLogData(builder), F142_IDENTIFIER);
}

export function deserialiseF142(bytes: Uint8Array): F142Message {
  const root = readRootTable(bytes, F142_IDENTIFIER);
  return {
    sourceName: root.string(SOURCE_NAME) ?? '',
    timestampNs: root.uint64(TIMESTAMP),
    value: readLogValue(root, VALUE_TYPE, true),
    alarmStatus: root.uint16(STATUS, F142AlarmStatus.NO_CHANGE),
    alarmSeverity: root.uint16(SEVERITY, F142AlarmSeverity.NO_CHANGE),
  };
}

/** Serialises the updates of one PV as f142, with the alarm mapped as the reference forwarder does. */
export class F142Serialiser {
  private readonly name: Uint8Array;

  constructor(
    readonly sourceName: string,
    readonly protocol: EpicsProtocol,
  ) {
    this.name = new TextEncoder().encode(sourceName);
  }

  /** Throws UnsupportedValueError for booleans, tables and severities outside 0-3. */
  serialise(update: PvUpdate): Uint8Array {
    return buildF142(this.name, {
      value: toF142Value(update.value, this.protocol),
      timestampNs: update.timestampNs,
      alarmStatus: f142AlarmStatus(update.alarm, this.protocol),
      alarmSeverity: f142AlarmSeverity(update.alarm.severity),
    });
  }
}
