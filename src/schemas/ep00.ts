/** ep00 EpicsConnectionInfo: the connection-state schema of forwarders before v2.0.0 (deprecated). */
import { buildConnectionInfo } from './ep01.js';
import { EventType } from './generated/ep00/event-type.js';
import { type EnumFields, readRootTable } from './reader.js';

export { EventType };

export const EP00_IDENTIFIER = 'ep00';

const TIMESTAMP = 0;
const TYPE = 1;
const SOURCE_NAME = 2;
const SERVICE_ID = 3;

export interface Ep00Message {
  readonly sourceName: string;
  /** ns since the Unix epoch (unsigned on the wire). */
  readonly timestampNs: bigint;
  readonly type: EventType;
  readonly serviceId?: string;
}

export const EP00_ENUM_FIELDS: EnumFields = { type: EventType };

export function serialiseEp00(message: Ep00Message): Uint8Array {
  return buildConnectionInfo(
    EP00_IDENTIFIER,
    message.sourceName,
    message.timestampNs,
    message.type,
    message.serviceId,
  );
}

export function deserialiseEp00(bytes: Uint8Array): Ep00Message {
  const root = readRootTable(bytes, EP00_IDENTIFIER);
  const serviceId = root.string(SERVICE_ID);
  return {
    sourceName: root.string(SOURCE_NAME) ?? '',
    timestampNs: root.uint64(TIMESTAMP),
    type: root.uint16(TYPE),
    ...(serviceId === null ? {} : { serviceId }),
  };
}
