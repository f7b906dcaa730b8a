/** tdct timestamps: chopper top-dead-centre times, sent as offsets from the PV's update timestamp. */
import type { PvValue } from '../model/update.js';
import { createNumericVector, finishMessage, startMessage } from './builder.js';
import { UnsupportedValueError } from './errors.js';
import { timestamp as TimestampTable } from './generated/tdct/timestamp.js';
import type { EpicsProtocol } from '../model/protocol.js';
import { readRootTable } from './reader.js';

export const TDCT_IDENTIFIER = 'tdct';

const NAME = 0;
const TIMESTAMPS = 1;
const SEQUENCE_COUNTER = 2;

export interface TdctMessage {
  /** PV name (field `name`). */
  readonly sourceName: string;
  /** ns since the Unix epoch. */
  readonly timestampsNs: BigUint64Array;
  /** Absent when not set; reads as 0 then. */
  readonly sequenceCounter?: bigint;
}

/** The Python reference's call order (defaults forced), so the bytes equal `serialise_tdct`'s. */
export function serialiseTdct(message: TdctMessage): Uint8Array {
  const builder = startMessage(true);
  const name = builder.createString(message.sourceName);
  const timestamps = createNumericVector(builder, message.timestampsNs);
  TimestampTable.starttimestamp(builder);
  TimestampTable.addName(builder, name);
  TimestampTable.addTimestamps(builder, timestamps);
  if (message.sequenceCounter !== undefined)
    TimestampTable.addSequenceCounter(builder, message.sequenceCounter);
  return finishMessage(TimestampTable.endtimestamp(builder), TDCT_IDENTIFIER);
}

export function deserialiseTdct(bytes: Uint8Array): TdctMessage {
  const root = readRootTable(bytes, TDCT_IDENTIFIER);
  return {
    sourceName: root.string(NAME) ?? '',
    timestampsNs: root.numericVector(TIMESTAMPS, 'uint64') ?? new BigUint64Array(0),
    ...(root.has(SEQUENCE_COUNTER) ? { sequenceCounter: root.uint64(SEQUENCE_COUNTER) } : {}),
  };
}

/**
 * The tdct timestamps of a PV update: its values are ns offsets from the update's EPICS timestamp `originNs`, so
 * each becomes origin + offset as uint64 (wrapping like the reference's numpy cast). Integer offsets are added
 * exactly; float offsets are truncated to whole ns first, where the reference added them in float64 and lost up
 * to 256 ns. Returns null for an empty array (nothing is sent). Accepts numbers and arrays of numbers, and over
 * CA an enum index (the reference reads DBR_ENUM as int32); throws UnsupportedValueError for anything else.
 */
export function tdctTimestamps(
  value: PvValue,
  originNs: bigint,
  protocol: EpicsProtocol,
): BigUint64Array | null {
  switch (value.kind) {
    case 'scalar':
      return BigUint64Array.of(offsetFrom(originNs, value.value));
    case 'array': {
      if (value.value.length === 0) return null;
      const timestamps = new BigUint64Array(value.value.length);
      for (let i = 0; i < value.value.length; i++) timestamps[i] = offsetFrom(originNs, value.value[i] ?? 0);
      return timestamps;
    }
    case 'enum':
      if (protocol === 'ca') return BigUint64Array.of(offsetFrom(originNs, value.index));
      throw new UnsupportedValueError('tdct needs an NTScalar or NTScalarArray, not an NTEnum');
    default:
      throw new UnsupportedValueError(`tdct needs numeric values, not ${value.kind} values`);
  }
}

function offsetFrom(originNs: bigint, offset: number | bigint): bigint {
  if (typeof offset === 'number') {
    if (!Number.isFinite(offset))
      throw new UnsupportedValueError(`tdct offset ${offset} is not a finite number`);
    return BigInt.asUintN(64, originNs + BigInt(Math.trunc(offset)));
  }
  return BigInt.asUintN(64, originNs + offset);
}

/** Serialises the tdct messages of one PV, numbering them 0, 1, 2, ... as the reference does. */
export class TdctSerialiser {
  private sequenceCounter = 0n;

  constructor(
    readonly sourceName: string,
    readonly protocol: EpicsProtocol,
  ) {}

  /**
   * The message for an update with EPICS timestamp `originNs` (which is also the message's Kafka timestamp), or
   * null when the update is empty. Throws UnsupportedValueError as tdctTimestamps does.
   */
  serialise(value: PvValue, originNs: bigint): Uint8Array | null {
    const timestampsNs = tdctTimestamps(value, originNs, this.protocol);
    if (timestampsNs === null) return null;
    const sequenceCounter = this.sequenceCounter;
    this.sequenceCounter += 1n;
    return serialiseTdct({ sourceName: this.sourceName, timestampsNs, sequenceCounter });
  }
}
