/** ep01 EpicsPVConnectionInfo: connection state changes of a PV. */
import type { ConnectionState } from '../model/update.js';
import { finishMessage, startMessage } from './builder.js';
import { ConnectionInfo } from './generated/ep01/connection-info.js';
import { EpicsPVConnectionInfo } from './generated/ep01/epics-pvconnection-info.js';
import { type EnumFields, readRootTable } from './reader.js';

export { ConnectionInfo };

export const EP01_IDENTIFIER = 'ep01';

const TIMESTAMP = 0;
const STATUS = 1;
const SOURCE_NAME = 2;
const SERVICE_ID = 3;

export interface Ep01Message {
  readonly sourceName: string;
  /** ns since the Unix epoch. */
  readonly timestampNs: bigint;
  readonly status: ConnectionInfo;
  /** Absent when not set (the forwarder never sets it). */
  readonly serviceId?: string;
}

export const EP01_ENUM_FIELDS: EnumFields = { status: ConnectionInfo };

export const CONNECTION_INFO_OF_STATE: { readonly [S in ConnectionState]: ConnectionInfo } = {
  connected: ConnectionInfo.CONNECTED,
  disconnected: ConnectionInfo.DISCONNECTED,
  destroyed: ConnectionInfo.DESTROYED,
  cancelled: ConnectionInfo.CANCELLED,
  finished: ConnectionInfo.FINISHED,
  remote_error: ConnectionInfo.REMOTE_ERROR,
  unknown: ConnectionInfo.UNKNOWN,
};

export function serialiseEp01(message: Ep01Message): Uint8Array {
  return buildConnectionInfo(
    EP01_IDENTIFIER,
    message.sourceName,
    message.timestampNs,
    message.status,
    message.serviceId,
  );
}

/**
 * The Python reference's call order (defaults forced), so the bytes equal `serialise_ep01`'s. ep00 has the same
 * slots (only its timestamp and enum are unsigned, which leaves the bytes of valid values unchanged), so it is
 * written here too, under its own identifier.
 */
export function buildConnectionInfo(
  identifier: typeof EP01_IDENTIFIER | 'ep00',
  sourceName: string,
  timestampNs: bigint,
  status: number,
  serviceId: string | undefined,
): Uint8Array {
  const builder = startMessage(true);
  const service = serviceId === undefined ? 0 : builder.createString(serviceId);
  const name = builder.createString(sourceName);
  EpicsPVConnectionInfo.startEpicsPVConnectionInfo(builder);
  if (serviceId !== undefined) EpicsPVConnectionInfo.addServiceId(builder, service);
  EpicsPVConnectionInfo.addSourceName(builder, name);
  EpicsPVConnectionInfo.addStatus(builder, status);
  EpicsPVConnectionInfo.addTimestamp(builder, timestampNs);
  return finishMessage(EpicsPVConnectionInfo.endEpicsPVConnectionInfo(builder), identifier);
}

/** The status is read as stored; the Python reader raises on a number outside the enum, this one does not. */
export function deserialiseEp01(bytes: Uint8Array): Ep01Message {
  const root = readRootTable(bytes, EP01_IDENTIFIER);
  const serviceId = root.string(SERVICE_ID);
  return {
    sourceName: root.string(SOURCE_NAME) ?? '',
    timestampNs: root.int64(TIMESTAMP),
    status: root.int16(STATUS),
    ...(serviceId === null ? {} : { serviceId }),
  };
}

/**
 * Serialises the connection messages of one PV. They are sent only when the connection state changes, so each
 * is built afresh (a few µs) rather than patched into a buffer kept for every stream.
 */
export class Ep01Serialiser {
  constructor(readonly sourceName: string) {}

  serialise(timestampNs: bigint, state: ConnectionState): Uint8Array {
    return buildConnectionInfo(
      EP01_IDENTIFIER,
      this.sourceName,
      timestampNs,
      CONNECTION_INFO_OF_STATE[state],
      undefined,
    );
  }
}
