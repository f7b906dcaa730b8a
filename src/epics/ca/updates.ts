/**
 * Translation of DBR_TIME payloads and DBR_CTRL metadata into the protocol-neutral update model.
 */
import {
  type Alarm,
  type Display,
  type NumericType,
  type PvUpdate,
  type PvValue,
  shareValue,
} from '../../model/update.js';
import { alarmStatusName, DbrClass, NativeType } from './constants.js';
import {
  dbrType,
  dbrValueOffset,
  epicsTimeToUnixNs,
  readDbrString,
  readNumber,
  readNumericArray,
  readStrings,
  type DbrMetadata,
} from './dbr.js';

/** The element type of each numeric native type in the update model (enums as arrays are uint16, as CA sends). */
const NUMERIC_TYPES: readonly (NumericType | undefined)[] = [
  undefined,
  'int16',
  'float32',
  'uint16',
  'uint8',
  'int32',
  'float64',
];

/** What a channel knows from its CTRL subscription, attached to every update. */
export interface ChannelMetadata {
  readonly display?: Display;
  readonly choices?: readonly string[];
}

export const NO_METADATA: ChannelMetadata = {};

const sharedDisplays = new Map<string, ChannelMetadata>();

/** Channels with the same units and precision share one (immutable) metadata object: there are few distinct ones. */
export function channelMetadata(metadata: DbrMetadata): ChannelMetadata {
  if (metadata.enumStrings) return { choices: metadata.enumStrings };
  const { units, precision } = metadata;
  if (units === undefined) return NO_METADATA;
  const key = `${precision ?? ''}:${units}`;
  return (
    sharedDisplays.get(key) ??
    shareValue(sharedDisplays, key, { display: precision === undefined ? { units } : { units, precision } })
  );
}

const alarmCache = new Map<number, Alarm>();

/** Alarm objects are immutable and few, so they are shared rather than allocated per update. */
function alarmOf(severity: number, status: number): Alarm {
  const key = severity * 0x10000 + (status & 0xffff);
  return (
    alarmCache.get(key) ?? shareValue(alarmCache, key, { severity, status, message: alarmStatusName(status) })
  );
}

function decodeValue(
  nativeType: NativeType,
  scalar: boolean,
  payload: Buffer,
  offset: number,
  count: number,
  metadata: ChannelMetadata,
): PvValue {
  if (nativeType === NativeType.STRING) {
    return scalar
      ? { kind: 'string', value: readDbrString(payload, offset) }
      : { kind: 'stringArray', value: readStrings(payload, offset, count) };
  }
  if (scalar && nativeType === NativeType.ENUM) {
    const index = payload.readUInt16BE(offset);
    return metadata.choices ? { kind: 'enum', index, choices: metadata.choices } : { kind: 'enum', index };
  }
  const type = NUMERIC_TYPES[nativeType] as NumericType;
  if (scalar) return { kind: 'scalar', type, value: readNumber(nativeType, payload, offset) } as PvValue;
  return { kind: 'array', type, value: readNumericArray(nativeType, payload, offset, count) } as PvValue;
}

/**
 * The update carried by a DBR_TIME_<native> payload of `count` elements (already checked for size). `scalar`
 * is true for channels whose native element count is 1.
 */
export function decodeTimeUpdate(
  nativeType: NativeType,
  count: number,
  scalar: boolean,
  payload: Buffer,
  metadata: ChannelMetadata,
): PvUpdate {
  const offset = dbrValueOffset(dbrType(DbrClass.TIME, nativeType));
  const value = decodeValue(nativeType, scalar && count >= 1, payload, offset, count, metadata);
  const alarm = alarmOf(payload.readInt16BE(2), payload.readInt16BE(0));
  const timestampNs = epicsTimeToUnixNs(payload.readUInt32BE(4), payload.readUInt32BE(8));
  return metadata.display
    ? { value, timestampNs, alarm, display: metadata.display }
    : { value, timestampNs, alarm };
}
