/**
 * Decoded ESS messages as one line of text each, for `tail --format text`, in the spirit of camonitor: the time
 * (the EPICS timestamp, or Kafka's for messages without one) in local time to the microsecond, the schema, the PV,
 * then what the message says: the value, the alarm, the connection state, the samples, an image's shape and size,
 * the command.
 */
import { cut as cutTo, listText, SEVERITY_NAMES, valueText } from '../model/value-text.js';
import { type DecodedMessage, F142AlarmSeverity, F142AlarmStatus } from '../schemas/index.js';
import { enumText, sourceNames } from './message-json.js';

/** Longest text of a value, the samples of a message or a status. */
const WHAT_LENGTH = 80;

/** `2026-12-07 17:12:39.123456` in local time, as camonitor prints it. */
export function localTimeText(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const date = new Date(Number(ms));
  const two = (value: number): string => String(value).padStart(2, '0');
  const micro = String((((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n) / 1_000n).padStart(6, '0');
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${micro}`
  );
}

/** The EPICS time of a message, in ns since the Unix epoch, when it has one. */
function epicsTimeNs(decoded: DecodedMessage): bigint | undefined {
  switch (decoded.schema) {
    case 'f144':
    case 'f142':
    case 'al00':
    case 'ep01':
    case 'ep00':
    case 'ad00':
    case 'da00':
      return decoded.message.timestampNs;
    case 'tdct':
      return decoded.message.timestampsNs[0];
    case 'se00':
    case 'senv':
      return decoded.message.packetTimestampNs;
    default:
      return undefined;
  }
}

const cut = (text: string): string => cutTo(text, WHAT_LENGTH);

/** `48×64`, slowest-varying first; `scalar` without dimensions. */
const shapeText = (dimensions: BigInt64Array): string =>
  dimensions.length === 0 ? 'scalar' : Array.from(dimensions, String).join('×');

/** What the message says, without its time and PV. */
function whatText(decoded: DecodedMessage): string {
  switch (decoded.schema) {
    case 'f144':
      return valueText(decoded.message.value, undefined, WHAT_LENGTH);
    case 'f142': {
      const { value, alarmSeverity, alarmStatus } = decoded.message;
      const alarm =
        alarmSeverity === F142AlarmSeverity.NO_CHANGE
          ? ''
          : `  ${F142AlarmSeverity[alarmSeverity]} ${F142AlarmStatus[alarmStatus] ?? alarmStatus}`;
      return `${valueText(value, undefined, WHAT_LENGTH)}${alarm}`;
    }
    case 'al00': {
      const { severity, message } = decoded.message;
      return cut(`alarm ${SEVERITY_NAMES[severity] ?? severity}${message === '' ? '' : ` ${message}`}`);
    }
    case 'ep01':
      return `connection ${enumText(decoded, 'status', decoded.message.status)}`;
    case 'ep00':
      return `connection ${enumText(decoded, 'type', decoded.message.type)}`;
    case 'tdct':
      return `${decoded.message.timestampsNs.length} timestamps`;
    case 'se00':
    case 'senv':
      return `${decoded.message.values.length} samples ${listText(decoded.message.values, WHAT_LENGTH)}`;
    case 'ad00': {
      const { dimensions, dataType, uniqueId, data } = decoded.message;
      const type = enumText(decoded, 'dataType', dataType);
      return `image ${shapeText(dimensions)} ${type}, frame ${uniqueId}, ${data.length} bytes`;
    }
    case 'da00':
      return cut(
        decoded.message.variables
          .map((variable) => `${variable.name} ${shapeText(variable.shape)} (${variable.data.length} bytes)`)
          .join(', '),
      );
    case 'x5f2':
      return cut(
        `status of ${decoded.message.hostName} pid ${decoded.message.processId}: ${decoded.message.statusJson}`,
      );
    case 'fc00':
    case 'rf5k': {
      const count = decoded.message.streams.length;
      const change = enumText(decoded, 'configChange', decoded.message.configChange);
      return `${change} ${count} stream${count === 1 ? '' : 's'}`;
    }
  }
}

/** One message as a line of text (without the newline); `error` for bytes that are no ESS message. */
export function messageText(
  decoded: DecodedMessage | undefined,
  kafkaTimestampMs: number | undefined,
  error?: string,
): string {
  const ns = decoded === undefined ? undefined : epicsTimeNs(decoded);
  const time =
    ns !== undefined
      ? localTimeText(ns)
      : kafkaTimestampMs !== undefined
        ? localTimeText(BigInt(kafkaTimestampMs) * 1_000_000n)
        : '-';
  if (decoded === undefined) return `${time}  ?     -  not an ESS message: ${error ?? 'unknown'}`;
  const names = sourceNames(decoded);
  const pv = names.length <= 1 ? (names[0] ?? '-') : `${names[0]} (+${names.length - 1})`;
  return `${time}  ${decoded.schema}  ${pv}  ${whatText(decoded)}`;
}
