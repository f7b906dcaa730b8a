/**
 * fc00 ConfigUpdate: forwarder configuration commands (config topic) and the stored stream list (storage
 * topic). Its legacy predecessor rf5k has the same slots minus `periodic`, so the builder and reader here serve
 * both (see rf5k.ts).
 */
import { finishMessage, startMessage } from './builder.js';
import { fc00_ConfigUpdate as ConfigUpdate } from './generated/fc00/fc00-config-update.js';
import { Protocol } from './generated/fc00/protocol.js';
import { Stream } from './generated/fc00/stream.js';
import { UpdateType } from './generated/fc00/update-type.js';
import { type EnumFields, readRootTable } from './reader.js';

export { Protocol, UpdateType };

export const FC00_IDENTIFIER = 'fc00';

const CONFIG_CHANGE = 0;
const STREAMS = 1;
const CHANNEL = 0;
const SCHEMA = 1;
const TOPIC = 2;
const PROTOCOL = 3;
const PERIODIC = 4;

export interface Fc00Stream {
  /** PV name; REMOVE accepts ? and * wildcards. */
  readonly channel: string;
  /** An output schema name (OUTPUT_SCHEMA_NAMES), not validated here. */
  readonly schema: string;
  /** Output topic; REMOVE accepts wildcards. */
  readonly topic: string;
  /** Protocol enum number, as stored: unknown numbers are the parser's to reject. */
  readonly protocol: Protocol;
  /** Non-zero: re-send periodically. */
  readonly periodic: number;
}

export interface Fc00Message {
  /** UpdateType enum number, as stored. */
  readonly configChange: UpdateType;
  readonly streams: readonly Fc00Stream[];
}

export const FC00_ENUM_FIELDS: EnumFields = { configChange: UpdateType, protocol: Protocol };

export function serialiseFc00(message: Fc00Message): Uint8Array {
  return buildConfigUpdate(FC00_IDENTIFIER, message.configChange, message.streams);
}

/**
 * The Python reference's call order (defaults forced), so the bytes equal `serialise_fc00`'s. Python adds the
 * stream offsets in list order, which leaves them reversed on the wire; walking the list backwards here puts
 * them on the wire in list order, so what is decoded is what was given. rf5k streams are written without
 * `periodic`.
 */
export function buildConfigUpdate(
  identifier: 'fc00' | 'rf5k',
  configChange: number,
  streams: readonly (Omit<Fc00Stream, 'periodic'> & { readonly periodic?: number })[],
): Uint8Array {
  const builder = startMessage(true);
  const inBuildOrder = [...streams].reverse();
  // All strings first: nothing may be created while a table is being built.
  const withStrings = inBuildOrder.map((stream) => ({
    stream,
    channel: builder.createString(stream.channel),
    schema: builder.createString(stream.schema),
    topic: builder.createString(stream.topic),
  }));
  const tables = withStrings.map(({ stream, channel, schema, topic }) => {
    Stream.startStream(builder);
    Stream.addProtocol(builder, stream.protocol);
    Stream.addTopic(builder, topic);
    Stream.addSchema(builder, schema);
    Stream.addChannel(builder, channel);
    if (stream.periodic !== undefined) Stream.addPeriodic(builder, stream.periodic);
    return Stream.endStream(builder);
  });
  let streamVector = 0;
  if (tables.length > 0) {
    ConfigUpdate.startStreamsVector(builder, tables.length);
    for (const table of tables) builder.addOffset(table);
    streamVector = builder.endVector();
  }
  ConfigUpdate.startfc00_ConfigUpdate(builder);
  if (tables.length > 0) ConfigUpdate.addStreams(builder, streamVector);
  ConfigUpdate.addConfigChange(builder, configChange);
  return finishMessage(ConfigUpdate.endfc00_ConfigUpdate(builder), identifier);
}

export function deserialiseFc00(bytes: Uint8Array): Fc00Message {
  const { configChange, streams } = readConfigUpdate(bytes, FC00_IDENTIFIER);
  return { configChange, streams: streams.map((stream) => ({ ...stream, periodic: stream.periodic ?? 0 })) };
}

/** Reads fc00 or rf5k; `periodic` is present only when stored (never in rf5k). Missing strings read as "". */
export function readConfigUpdate(
  bytes: Uint8Array,
  identifier: 'fc00' | 'rf5k',
): { configChange: number; streams: (Omit<Fc00Stream, 'periodic'> & { periodic?: number })[] } {
  const root = readRootTable(bytes, identifier);
  const streams = (root.tableVector(STREAMS) ?? []).map((stream) => ({
    channel: stream.string(CHANNEL) ?? '',
    schema: stream.string(SCHEMA) ?? '',
    topic: stream.string(TOPIC) ?? '',
    protocol: stream.uint16(PROTOCOL),
    ...(identifier === FC00_IDENTIFIER ? { periodic: stream.int32(PERIODIC) } : {}),
  }));
  return { configChange: root.uint16(CONFIG_CHANGE), streams };
}
