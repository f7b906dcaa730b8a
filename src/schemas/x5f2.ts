/** x5f2 Status: the periodic status message of a service (the forwarder lists its streams in `statusJson`). */
import { finishMessage, startMessage } from './builder.js';
import { Status } from './generated/x5f2/status.js';
import { readRootTable } from './reader.js';

export const X5F2_IDENTIFIER = 'x5f2';

const SOFTWARE_NAME = 0;
const SOFTWARE_VERSION = 1;
const SERVICE_ID = 2;
const HOST_NAME = 3;
const PROCESS_ID = 4;
const UPDATE_INTERVAL = 5;
const STATUS_JSON = 6;

export interface X5f2Message {
  readonly softwareName: string;
  readonly softwareVersion: string;
  readonly serviceId: string;
  readonly hostName: string;
  readonly processId: number;
  /** ms between status messages. */
  readonly updateIntervalMs: number;
  readonly statusJson: string;
}

/**
 * The Python reference's call order (defaults forced), so the bytes equal `serialise_x5f2`'s. All five strings
 * are always written: the Python reader fails on a status message missing any of them.
 */
export function serialiseX5f2(message: X5f2Message): Uint8Array {
  const builder = startMessage(true);
  const softwareName = builder.createString(message.softwareName);
  const softwareVersion = builder.createString(message.softwareVersion);
  const serviceId = builder.createString(message.serviceId);
  const hostName = builder.createString(message.hostName);
  const statusJson = builder.createString(message.statusJson);
  Status.startStatus(builder);
  Status.addSoftwareName(builder, softwareName);
  Status.addSoftwareVersion(builder, softwareVersion);
  Status.addServiceId(builder, serviceId);
  Status.addHostName(builder, hostName);
  Status.addProcessId(builder, message.processId);
  Status.addUpdateInterval(builder, message.updateIntervalMs);
  Status.addStatusJson(builder, statusJson);
  return finishMessage(Status.endStatus(builder), X5F2_IDENTIFIER);
}

export function deserialiseX5f2(bytes: Uint8Array): X5f2Message {
  const root = readRootTable(bytes, X5F2_IDENTIFIER);
  return {
    softwareName: root.string(SOFTWARE_NAME) ?? '',
    softwareVersion: root.string(SOFTWARE_VERSION) ?? '',
    serviceId: root.string(SERVICE_ID) ?? '',
    hostName: root.string(HOST_NAME) ?? '',
    processId: root.uint32(PROCESS_ID),
    updateIntervalMs: root.uint32(UPDATE_INTERVAL),
    statusJson: root.string(STATUS_JSON) ?? '',
  };
}
