/** al00 Alarm: the EPICS alarm severity and message of a source, sent when either changes. */
import type { Alarm } from '../model/update.js';
import { finishMessage, startMessage } from './builder.js';
import { UnsupportedValueError } from './errors.js';
import { Alarm as AlarmTable } from './generated/al00/alarm.js';
import { Severity as Al00Severity } from './generated/al00/severity.js';
import { type EnumFields, readRootTable } from './reader.js';

export { Al00Severity };

export const AL00_IDENTIFIER = 'al00';

const SOURCE_NAME = 0;
const TIMESTAMP = 1;
const SEVERITY = 2;
const MESSAGE = 3;

export interface Al00Message {
  readonly sourceName: string;
  /** ns since the Unix epoch. */
  readonly timestampNs: bigint;
  /** Al00Severity, EPICS order: OK 0, MINOR 1, MAJOR 2, INVALID 3. */
  readonly severity: Al00Severity;
  readonly message: string;
}

export const AL00_ENUM_FIELDS: EnumFields = { severity: Al00Severity };

export function serialiseAl00(message: Al00Message): Uint8Array {
  return buildAl00(message.sourceName, message.timestampNs, message.severity, message.message);
}

/** The Python reference's call order (no forced defaults), so the bytes equal `serialise_al00`'s. */
function buildAl00(
  sourceName: string,
  timestampNs: bigint,
  severity: Al00Severity,
  message: string,
): Uint8Array {
  const builder = startMessage(false);
  const messageString = builder.createString(message);
  const name = builder.createString(sourceName);
  AlarmTable.startAlarm(builder);
  AlarmTable.addSourceName(builder, name);
  AlarmTable.addTimestamp(builder, timestampNs);
  AlarmTable.addSeverity(builder, severity);
  AlarmTable.addMessage(builder, messageString);
  return finishMessage(AlarmTable.endAlarm(builder), AL00_IDENTIFIER);
}

/** Severity and message are read as stored; the Python reader raises on a severity outside 0-3, this one does not. */
export function deserialiseAl00(bytes: Uint8Array): Al00Message {
  const root = readRootTable(bytes, AL00_IDENTIFIER);
  return {
    sourceName: root.string(SOURCE_NAME) ?? '',
    timestampNs: root.int64(TIMESTAMP),
    severity: root.int16(SEVERITY),
    message: root.string(MESSAGE) ?? '',
  };
}

/**
 * Serialises the alarm messages of one source. An al00 message is only sent when the alarm changes, so each is
 * built afresh (a few µs) rather than from a cached buffer per alarm text kept for every stream.
 */
export class Al00Serialiser {
  constructor(readonly sourceName: string) {}

  /** The alarm's EPICS severity and its message verbatim. Throws UnsupportedValueError for a severity outside 0-3. */
  serialise(timestampNs: bigint, alarm: Pick<Alarm, 'severity' | 'message'>): Uint8Array {
    const { severity, message } = alarm;
    if (Al00Severity[severity] === undefined) {
      throw new UnsupportedValueError(`alarm severity ${severity} is not an EPICS severity (0-3)`);
    }
    return buildAl00(this.sourceName, timestampNs, severity, message);
  }
}
