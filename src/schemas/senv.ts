/**
 * senv SampleEnvironmentData (deprecated predecessor of se00, schema "nttable_senv"): se00's slots with unsigned
 * 64-bit timestamps and counter and integer values only. Built and read by se00.ts's code under its own
 * identifier.
 */
import type { NumericArray, NumericType, TableValue } from '../model/update.js';
import { UnsupportedValueError } from './errors.js';
import type { EnumFields } from './reader.js';
import {
  buildSampleEnvironment,
  Location,
  readSampleEnvironment,
  type SampleMessage,
  sampleColumns,
  sampleEnvironmentOfColumns,
} from './se00.js';

export const SENV_IDENTIFIER = 'senv';

export type IntegerArray = Exclude<NumericArray, Float32Array | Float64Array>;

export interface SenvMessage {
  /** Source (PV) name (field `Name`). */
  readonly sourceName: string;
  readonly channel: number;
  /** ns since the Unix epoch of the first sample. */
  readonly packetTimestampNs: bigint;
  /** ns between samples. */
  readonly timeDeltaNs: number;
  readonly timestampLocation: Location;
  readonly values: IntegerArray;
  /** Per-sample timestamps, ns since the Unix epoch; absent when not sent. */
  readonly timestampsNs?: BigUint64Array;
  readonly messageCounter: bigint;
}

export const SENV_ENUM_FIELDS: EnumFields = { timestampLocation: Location };

export function serialiseSenv(message: SenvMessage): Uint8Array {
  return buildSampleEnvironment(SENV_IDENTIFIER, message);
}

const isInteger = (type: NumericType): boolean => type !== 'float32' && type !== 'float64';

export function deserialiseSenv(bytes: Uint8Array): SenvMessage {
  return readSampleEnvironment(bytes, SENV_IDENTIFIER, 'uint64', isInteger) as SenvMessage;
}

/**
 * Float columns rounded to int64, half to even as the reference's numpy `round()` does. Throws for NaN and
 * infinities, which have no integer.
 */
function integerValues(values: NumericArray): IntegerArray {
  if (!(values instanceof Float32Array || values instanceof Float64Array)) return values;
  const rounded = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? 0;
    if (!Number.isFinite(value)) throw new UnsupportedValueError(`senv cannot carry the value ${value}`);
    rounded[i] = BigInt(roundHalfToEven(value));
  }
  return rounded;
}

function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Serialises the NTTable updates of one PV as senv, numbering them 0, 1, 2, ... */
export class SenvSerialiser {
  private messageCounter = 0n;

  constructor(readonly sourceName: string) {}

  /**
   * Null for a table without rows. Throws UnsupportedValueError without numeric value and timestamp columns.
   * The packet timestamp is exact; the reference passed it through a float datetime (microsecond precision).
   */
  serialise(table: TableValue): SampleMessage | null {
    const columns = sampleColumns(table);
    if (columns === null) return null;
    const fields = sampleEnvironmentOfColumns(this.sourceName, columns, this.messageCounter);
    this.messageCounter += 1n;
    const { timestampsNs } = columns;
    const bytes = serialiseSenv({
      ...fields,
      values: integerValues(columns.values),
      timestampsNs: new BigUint64Array(timestampsNs.buffer, timestampsNs.byteOffset, timestampsNs.length),
    });
    return { bytes, timestampNs: fields.packetTimestampNs };
  }
}
