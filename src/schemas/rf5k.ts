/**
 * rf5k ConfigUpdate: the configuration commands of forwarders up to v2.1.0 (legacy; still read from config and
 * storage topics). fc00's slots without `periodic` and without REPLACE; built and read by fc00.ts's code.
 */
import { buildConfigUpdate, type Fc00Stream, Protocol, readConfigUpdate } from './fc00.js';
import { UpdateType as Rf5kUpdateType } from './generated/rf5k/update-type.js';
import type { EnumFields } from './reader.js';

export { Rf5kUpdateType };

export const RF5K_IDENTIFIER = 'rf5k';

export type Rf5kStream = Omit<Fc00Stream, 'periodic'>;

export interface Rf5kMessage {
  /** Rf5kUpdateType enum number, as stored. */
  readonly configChange: Rf5kUpdateType;
  readonly streams: readonly Rf5kStream[];
}

export const RF5K_ENUM_FIELDS: EnumFields = { configChange: Rf5kUpdateType, protocol: Protocol };

export function serialiseRf5k(message: Rf5kMessage): Uint8Array {
  return buildConfigUpdate(RF5K_IDENTIFIER, message.configChange, message.streams);
}

export function deserialiseRf5k(bytes: Uint8Array): Rf5kMessage {
  return readConfigUpdate(bytes, RF5K_IDENTIFIER);
}
