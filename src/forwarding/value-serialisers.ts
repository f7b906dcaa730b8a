/** The main schema of a stream: from an update to the message bytes and the timestamp they carry. */
import type { PvUpdate } from '../model/update.js';
import {
  F142Serialiser,
  F144Serialiser,
  Se00Serialiser,
  SenvSerialiser,
  TdctSerialiser,
  UnsupportedValueError,
} from '../schemas/index.js';
import type { StreamSpec } from '../model/stream.js';

export interface ValueMessage {
  readonly payload: Uint8Array;
  readonly timestampNs: bigint;
}

/** Null when the update produces no message (an empty tdct array, an NTTable without rows). */
export type ValueSerialiser = (update: PvUpdate) => ValueMessage | null;

export function createValueSerialiser(spec: StreamSpec): ValueSerialiser {
  const { pvName, protocol } = spec;
  switch (spec.schema) {
    case 'f144': {
      const serialiser = new F144Serialiser(pvName, protocol);
      return (update) => ({
        payload: serialiser.serialise(update.value, update.timestampNs),
        timestampNs: update.timestampNs,
      });
    }
    case 'f142': {
      const serialiser = new F142Serialiser(pvName, protocol);
      return (update) => ({ payload: serialiser.serialise(update), timestampNs: update.timestampNs });
    }
    case 'tdct': {
      const serialiser = new TdctSerialiser(pvName, protocol);
      return (update) => {
        const payload = serialiser.serialise(update.value, update.timestampNs);
        return payload === null ? null : { payload, timestampNs: update.timestampNs };
      };
    }
    case 'nttable_se00':
    case 'nttable_senv': {
      const serialiser =
        spec.schema === 'nttable_se00' ? new Se00Serialiser(pvName) : new SenvSerialiser(pvName);
      return (update) => {
        if (update.value.kind !== 'table') {
          throw new UnsupportedValueError(
            `schema ${spec.schema} needs an NTTable, got a ${update.value.kind} value`,
          );
        }
        const message = serialiser.serialise(update.value);
        return message === null ? null : { payload: message.bytes, timestampNs: message.timestampNs };
      };
    }
    default:
      throw new Error(`no value serialiser for schema '${spec.schema}'`);
  }
}
