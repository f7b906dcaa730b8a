/**
 * Payload encoders and decoders of the messages a monitoring client exchanges
 * (docs/protocols/pvaccess.md: "Connection handshake", "Search", "Beacons", "Channels", "Monitors"). Encoders write a
 * whole message (header included) into a WireWriter in its byte order; decoders read a payload from a
 * WireReader positioned at its start. Both directions exist for each message so in-repo test servers can speak
 * the protocol with the same code that is tested against real captures.
 */
import type { ClientIdentity } from '../common/identity.js';
import { beginMessage, endMessage } from './header.js';
import {
  type FieldDesc,
  type StructureDesc,
  decodeFieldDesc,
  structure,
  scalarDesc,
  encodeFieldDesc,
} from './introspection.js';
import type { TypeRegistry } from './introspection.js';
import { Command, FieldDescTag, MonitorSubcommand } from './protocol.js';
import { type PvData, type PvStructureData, decodeData, encodeData } from './values.js';
import { PvaProtocolError, type PvaStatus, type WireReader, type WireWriter } from './wire.js';

// ---- addresses -------------------------------------------------------------------------------------------

const ADDRESS_BYTES = 16;

/** Decodes a 16-byte address: IPv4 (from IPv4-mapped IPv6) or IPv6 text, null for "any" (either form). */
export function decodeAddress(reader: WireReader): string | null {
  const bytes = reader.slice(ADDRESS_BYTES);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) {
    const ipv4 = [...bytes.subarray(12)];
    return ipv4.every((b) => b === 0) ? null : ipv4.join('.');
  }
  if (bytes.every((b) => b === 0)) return null;
  const groups: string[] = [];
  for (let i = 0; i < ADDRESS_BYTES; i += 2)
    groups.push(((bytes[i] as number) * 256 + (bytes[i + 1] as number)).toString(16));
  return groups.join(':');
}

/**
 * Encodes an IPv4 address as IPv4-mapped IPv6. "Any" (null) is sixteen zeros, or ::ffff:0.0.0.0 with
 * `mappedAny` (what pvxs servers put in search replies).
 */
export function encodeAddress(writer: WireWriter, ipv4: string | null, mappedAny = false): void {
  const out = Buffer.alloc(ADDRESS_BYTES);
  if (ipv4 === null) {
    if (mappedAny) out.fill(0xff, 10, 12);
  } else {
    const parts = ipv4.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)))
      throw new Error(`not an IPv4 address: ${ipv4}`);
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(parts, 12);
  }
  writer.bytes(out);
}

// ---- SEARCH / SEARCH_RESPONSE ------------------------------------------------------------------------------

export interface SearchChannel {
  readonly id: number;
  readonly name: string;
}

export interface SearchRequest {
  readonly sequenceId: number;
  readonly flags: number;
  /** Reply address; null = the request's source address. */
  readonly responseAddress: string | null;
  readonly responsePort: number;
  readonly protocols: readonly string[];
  readonly channels: readonly SearchChannel[];
}

/** Fixed bytes of a SEARCH payload before the channel list (with one protocol "tcp"). */
export const SEARCH_FIXED_BYTES = 4 + 1 + 3 + ADDRESS_BYTES + 2 + 1 + 4 + 2;

export function encodeSearch(writer: WireWriter, request: SearchRequest): void {
  const start = beginMessage(writer, Command.search);
  writer.u32(request.sequenceId).u8(request.flags).u8(0).u16(0);
  encodeAddress(writer, request.responseAddress);
  writer.u16(request.responsePort);
  writer.size(request.protocols.length);
  for (const protocol of request.protocols) writer.string(protocol);
  writer.u16(request.channels.length);
  for (const channel of request.channels) writer.u32(channel.id).string(channel.name);
  endMessage(writer, start);
}

export function decodeSearch(reader: WireReader): SearchRequest {
  const sequenceId = reader.u32();
  const flags = reader.u8();
  reader.skip(3);
  const responseAddress = decodeAddress(reader);
  const responsePort = reader.u16();
  const protocols = readStrings(reader);
  const n = reader.u16();
  const channels: SearchChannel[] = [];
  for (let i = 0; i < n; i++) channels.push({ id: reader.u32(), name: reader.string() });
  return { sequenceId, flags, responseAddress, responsePort, protocols, channels };
}

export interface SearchResponse {
  /** Server instance id (12 bytes, hex). */
  readonly guid: string;
  readonly sequenceId: number;
  /** Server address; null = "any": use the reply's source (UDP) or the connection's peer (TCP). */
  readonly serverAddress: string | null;
  readonly serverPort: number;
  readonly protocol: string;
  readonly found: boolean;
  readonly channelIds: readonly number[];
}

const GUID_BYTES = 12;

export function encodeSearchResponse(writer: WireWriter, response: SearchResponse): void {
  const start = beginMessage(writer, Command.searchResponse, true);
  writer.bytes(Buffer.from(response.guid, 'hex').subarray(0, GUID_BYTES));
  writer.u32(response.sequenceId);
  encodeAddress(writer, response.serverAddress, true);
  writer.u16(response.serverPort).string(response.protocol).boolean(response.found);
  writer.u16(response.channelIds.length);
  for (const id of response.channelIds) writer.u32(id);
  endMessage(writer, start);
}

export function decodeSearchResponse(reader: WireReader): SearchResponse {
  const guid = reader.slice(GUID_BYTES).toString('hex');
  const sequenceId = reader.u32();
  const serverAddress = decodeAddress(reader);
  const serverPort = reader.u16();
  const protocol = reader.string();
  const found = reader.boolean();
  const n = reader.u16();
  reader.need(n * 4);
  const channelIds: number[] = [];
  for (let i = 0; i < n; i++) channelIds.push(reader.u32());
  return { guid, sequenceId, serverAddress, serverPort, protocol, found, channelIds };
}

// ---- BEACON ------------------------------------------------------------------------------------------------

/** A server's announcement of itself, sent over UDP when it starts and periodically after. */
export interface Beacon {
  /** Server instance id (12 bytes, hex): a new one each time the server starts. */
  readonly guid: string;
  readonly flags: number;
  /** Counts the server's beacons, modulo 256. */
  readonly sequence: number;
  /** Counts changes of the server's set of channel providers, modulo 65,536. */
  readonly changeCount: number;
  /** Server address; null = "any": the beacon's source. */
  readonly serverAddress: string | null;
  readonly serverPort: number;
  readonly protocol: string;
}

/** Encodes a beacon with a null server status (as pvxs servers send it). */
export function encodeBeacon(writer: WireWriter, beacon: Beacon): void {
  const start = beginMessage(writer, Command.beacon, true);
  writer.bytes(Buffer.from(beacon.guid, 'hex').subarray(0, GUID_BYTES));
  writer.u8(beacon.flags).u8(beacon.sequence).u16(beacon.changeCount);
  encodeAddress(writer, beacon.serverAddress, true);
  writer.u16(beacon.serverPort).string(beacon.protocol);
  writer.u8(FieldDescTag.nullType);
  endMessage(writer, start);
}

/** Decodes a beacon; the server status that ends it (a FieldDesc and value, usually null) is not read. */
export function decodeBeacon(reader: WireReader): Beacon {
  const guid = reader.slice(GUID_BYTES).toString('hex');
  const flags = reader.u8();
  const sequence = reader.u8();
  const changeCount = reader.u16();
  const serverAddress = decodeAddress(reader);
  const serverPort = reader.u16();
  const protocol = reader.string();
  return { guid, flags, sequence, changeCount, serverAddress, serverPort, protocol };
}

// ---- connection validation ---------------------------------------------------------------------------------

export interface ServerValidation {
  readonly receiveBufferSize: number;
  readonly registryMaxSize: number;
  readonly authMethods: readonly string[];
}

export function encodeServerValidation(writer: WireWriter, validation: ServerValidation): void {
  const start = beginMessage(writer, Command.connectionValidation, true);
  writer.i32(validation.receiveBufferSize).i16(validation.registryMaxSize);
  writer.size(validation.authMethods.length);
  for (const method of validation.authMethods) writer.string(method);
  endMessage(writer, start);
}

export function decodeServerValidation(reader: WireReader): ServerValidation {
  return { receiveBufferSize: reader.i32(), registryMaxSize: reader.i16(), authMethods: readStrings(reader) };
}

const caCredentialsType: StructureDesc = structure('', { user: scalarDesc.string, host: scalarDesc.string });

export interface ClientValidation {
  readonly receiveBufferSize: number;
  readonly registryMaxSize: number;
  readonly qos: number;
  readonly method: string;
  readonly credentials: ClientIdentity | null;
}

export function encodeClientValidation(writer: WireWriter, validation: ClientValidation): void {
  const start = beginMessage(writer, Command.connectionValidation);
  writer.i32(validation.receiveBufferSize).i16(validation.registryMaxSize).i16(validation.qos);
  writer.string(validation.method);
  if (validation.credentials) {
    encodeFieldDesc(writer, caCredentialsType);
    encodeData(writer, caCredentialsType, { ...validation.credentials });
  } else {
    encodeFieldDesc(writer, null);
  }
  endMessage(writer, start);
}

export function decodeClientValidation(reader: WireReader, registry: TypeRegistry): ClientValidation {
  const receiveBufferSize = reader.i32();
  const registryMaxSize = reader.i16();
  const qos = reader.i16();
  const method = reader.string();
  const type = decodeFieldDesc(reader, registry);
  let credentials: ClientIdentity | null = null;
  if (type?.kind === 'structure') {
    const fields: Record<string, string> = {};
    for (const member of type.fields) {
      if (member.type.kind !== 'scalar' || member.type.type !== 'string') {
        throw new PvaProtocolError('unexpected credentials type');
      }
      fields[member.name] = reader.string();
    }
    credentials = { user: fields['user'] ?? '', host: fields['host'] ?? '' };
  }
  return { receiveBufferSize, registryMaxSize, qos, method, credentials };
}

export function encodeStatusMessage(
  writer: WireWriter,
  command: number,
  status: PvaStatus,
  fromServer = true,
): void {
  const start = beginMessage(writer, command, fromServer);
  writer.status(status);
  endMessage(writer, start);
}

// ---- channels --------------------------------------------------------------------------------------------

export function encodeCreateChannel(writer: WireWriter, cid: number, name: string): void {
  const start = beginMessage(writer, Command.createChannel);
  writer.u16(1).u32(cid).string(name);
  endMessage(writer, start);
}

export function decodeCreateChannel(reader: WireReader): SearchChannel[] {
  const n = reader.u16();
  const out: SearchChannel[] = [];
  for (let i = 0; i < n; i++) out.push({ id: reader.u32(), name: reader.string() });
  return out;
}

export interface CreateChannelResponse {
  readonly cid: number;
  readonly sid: number;
  readonly status: PvaStatus;
}

export function encodeCreateChannelResponse(writer: WireWriter, response: CreateChannelResponse): void {
  const start = beginMessage(writer, Command.createChannel, true);
  writer.u32(response.cid).u32(response.sid).status(response.status);
  endMessage(writer, start);
}

export function decodeCreateChannelResponse(reader: WireReader): CreateChannelResponse {
  return { cid: reader.u32(), sid: reader.u32(), status: reader.status() };
}

export interface ChannelIds {
  readonly sid: number;
  readonly cid: number;
}

export function encodeDestroyChannel(writer: WireWriter, ids: ChannelIds, fromServer = false): void {
  const start = beginMessage(writer, Command.destroyChannel, fromServer);
  writer.u32(ids.sid).u32(ids.cid);
  endMessage(writer, start);
}

export function decodeDestroyChannel(reader: WireReader): ChannelIds {
  return { sid: reader.u32(), cid: reader.u32() };
}

/** DESTROY_REQUEST and CANCEL_REQUEST share this body. */
export function encodeRequestIds(writer: WireWriter, command: number, sid: number, ioid: number): void {
  const start = beginMessage(writer, command);
  writer.u32(sid).u32(ioid);
  endMessage(writer, start);
}

export function encodeEcho(writer: WireWriter, payload: Uint8Array, fromServer = false): void {
  const start = beginMessage(writer, Command.echo, fromServer);
  writer.bytes(payload);
  endMessage(writer, start);
}

export interface ServerMessage {
  readonly ioid: number;
  readonly type: number;
  readonly text: string;
}

export function decodeServerMessage(reader: WireReader): ServerMessage {
  return { ioid: reader.u32(), type: reader.u8(), text: reader.string() };
}

// ---- MONITOR ---------------------------------------------------------------------------------------------

export interface MonitorOptions {
  /** Server queue depth (record._options.queueSize); undefined = server default. */
  readonly queueSize?: number;
  /** Flow control: the server sends at most queueSize updates until acknowledged. */
  readonly pipeline?: boolean;
}

/**
 * The pvRequest selecting the whole structure: `field()`, plus record._options when options are given
 * (option values are strings, as pvxs and pvAccessCPP encode them).
 */
export function pvRequest(options: MonitorOptions = {}): { type: StructureDesc; value: PvStructureData } {
  const recordOptions: Record<string, string> = {};
  if (options.queueSize !== undefined) recordOptions['queueSize'] = String(options.queueSize);
  if (options.pipeline) recordOptions['pipeline'] = 'true';
  const fields: Record<string, FieldDesc> = { field: structure('', {}) };
  if (Object.keys(recordOptions).length > 0) {
    const optionsType = structure(
      '',
      Object.fromEntries(Object.keys(recordOptions).map((name) => [name, scalarDesc.string])),
    );
    fields['record'] = structure('', { _options: optionsType });
  }
  return { type: structure('', fields), value: { field: {}, record: { _options: recordOptions } } };
}

export function encodeMonitorInit(
  writer: WireWriter,
  sid: number,
  ioid: number,
  options: MonitorOptions = {},
): void {
  const start = beginMessage(writer, Command.monitor);
  const pipeline = options.pipeline === true;
  writer
    .u32(sid)
    .u32(ioid)
    .u8(MonitorSubcommand.init | (pipeline ? MonitorSubcommand.pipeline : 0));
  const request = pvRequest(options);
  encodeFieldDesc(writer, request.type);
  encodeData(writer, request.type, request.value);
  if (pipeline) writer.u32(options.queueSize ?? 0);
  endMessage(writer, start);
}

/** START, STOP and DESTROY (no body). */
export function encodeMonitorCommand(
  writer: WireWriter,
  sid: number,
  ioid: number,
  subcommand: number,
): void {
  const start = beginMessage(writer, Command.monitor);
  writer.u32(sid).u32(ioid).u8(subcommand);
  endMessage(writer, start);
}

export function encodeMonitorAck(writer: WireWriter, sid: number, ioid: number, count: number): void {
  const start = beginMessage(writer, Command.monitor);
  writer.u32(sid).u32(ioid).u8(MonitorSubcommand.pipeline).u32(count);
  endMessage(writer, start);
}

export interface MonitorRequest {
  readonly sid: number;
  readonly ioid: number;
  readonly subcommand: number;
  /** INIT only: the options found under record._options of the pvRequest. */
  readonly options?: MonitorOptions;
  /** INIT with pipeline: the initial window; ACK: the count acknowledged. */
  readonly count?: number;
}

/** Decodes a client's MONITOR request (for test servers). */
export function decodeMonitorRequest(reader: WireReader, registry: TypeRegistry): MonitorRequest {
  const sid = reader.u32();
  const ioid = reader.u32();
  const subcommand = reader.u8();
  let options: MonitorOptions | undefined;
  if (subcommand & MonitorSubcommand.init) {
    const type = decodeFieldDesc(reader, registry);
    options = type ? requestOptions(decodeData(reader, type, registry)) : {};
  }
  const count = subcommand & MonitorSubcommand.pipeline ? reader.u32() : undefined;
  return { sid, ioid, subcommand, ...(options && { options }), ...(count !== undefined && { count }) };
}

function requestOptions(request: PvData): MonitorOptions {
  const record = (request as PvStructureData)['record'] as PvStructureData | undefined;
  const options = (record?.['_options'] ?? {}) as PvStructureData;
  const queueSize = options['queueSize'];
  const pipeline = options['pipeline'];
  return {
    ...(queueSize !== undefined && { queueSize: Number(queueSize) }),
    ...(pipeline !== undefined && { pipeline: String(pipeline) === 'true' }),
  };
}

export function beginMonitorResponse(
  writer: WireWriter,
  ioid: number,
  subcommand: number,
  segment = 0,
): number {
  const start = beginMessage(writer, Command.monitor, true, segment);
  writer.u32(ioid).u8(subcommand);
  return start;
}

// ---- helpers ---------------------------------------------------------------------------------------------

function readStrings(reader: WireReader): string[] {
  const n = reader.count(1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(reader.string());
  return out;
}
