/**
 * Config-topic commands: fc00 (current) and rf5k (legacy) buffers decoded and validated into commands for the
 * stream registry. Invalid commands are rejected with a reason; invalid streams inside a valid command are
 * skipped with a reason each, as the reference does.
 */
import {
  deserialiseFc00,
  deserialiseRf5k,
  FC00_IDENTIFIER,
  isSchemaOfProtocol,
  Protocol,
  readFileIdentifier,
  RF5K_IDENTIFIER,
  unavailableSchemaReason,
  UpdateType,
} from '../schemas/index.js';
import type { EpicsProtocol } from '../model/protocol.js';
import type { OutputSchema, StreamSpec } from '../model/stream.js';
import { forwarderTopicProblem } from './topic-name.js';

/** A REMOVE request: empty fields match every stream; name and topic take wildcards, schema is exact. */
export interface StreamPattern {
  readonly pvName: string;
  readonly topic: string;
  readonly schema: OutputSchema | '';
}

export type ConfigCommand =
  | { readonly type: 'add'; readonly streams: readonly StreamSpec[] }
  | { readonly type: 'remove'; readonly patterns: readonly StreamPattern[] }
  | { readonly type: 'removeAll' }
  | { readonly type: 'replace'; readonly streams: readonly StreamSpec[] };

export type CommandParseResult =
  | { readonly ok: true; readonly command: ConfigCommand; readonly skipped: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly skipped: readonly string[] };

/** Longest PV name accepted; EPICS names are far shorter, so anything longer is junk. */
export const MAX_PV_NAME_LENGTH = 1024;

const PROTOCOL_OF_NUMBER = new Map<number, EpicsProtocol>([
  [Protocol.PVA, 'pva'],
  [Protocol.CA, 'ca'],
  [Protocol.FAKE, 'fake'],
]);

const COMMAND_OF_FC00 = new Map<number, ConfigCommand['type']>([
  [UpdateType.ADD, 'add'],
  [UpdateType.REMOVE, 'remove'],
  [UpdateType.REMOVEALL, 'removeAll'],
  [UpdateType.REPLACE, 'replace'],
]);

interface RawStream {
  readonly channel: string;
  readonly schema: string;
  readonly topic: string;
  readonly protocol: number;
  readonly periodic: number;
}

/** Decodes and validates a config-topic message (fc00 or rf5k). Never throws. */
export function parseConfigMessage(bytes: Uint8Array): CommandParseResult {
  let identifier: string;
  let configChange: number;
  let raw: readonly RawStream[];
  try {
    identifier = readFileIdentifier(bytes);
    if (identifier === FC00_IDENTIFIER) {
      ({ configChange, streams: raw } = deserialiseFc00(bytes));
    } else if (identifier === RF5K_IDENTIFIER) {
      const message = deserialiseRf5k(bytes);
      configChange = message.configChange;
      // rf5k has no periodic flag; the rf5k-era forwarder re-sent every stream.
      raw = message.streams.map((stream) => ({ ...stream, periodic: 1 }));
      if (configChange === UpdateType.REPLACE) return rejected('rf5k has no REPLACE command');
    } else {
      return rejected(`wrong schema: file identifier '${printable(identifier)}' is neither fc00 nor rf5k`);
    }
  } catch (error) {
    return rejected(`unable to deserialise payload: ${(error as Error).message}`);
  }
  const type = COMMAND_OF_FC00.get(configChange);
  if (type === undefined) return rejected(`unrecognised configuration change type ${configChange}`);
  if (type === 'removeAll') return { ok: true, command: { type }, skipped: [] };

  const skipped: string[] = [];
  if (type === 'remove') {
    const patterns: StreamPattern[] = [];
    for (const stream of raw) {
      const pattern = removePattern(stream);
      if (typeof pattern === 'string') skipped.push(`${describeRaw(stream)}: ${pattern}`);
      else patterns.push(pattern);
    }
    if (patterns.length === 0) return rejected('REMOVE does not contain valid details of streams', skipped);
    return { ok: true, command: { type, patterns }, skipped };
  }
  const streams: StreamSpec[] = [];
  for (const stream of raw) {
    const spec = addedStream(stream);
    if (typeof spec === 'string') skipped.push(`${describeRaw(stream)}: ${spec}`);
    else streams.push(spec);
  }
  // An empty REPLACE would silently mean REMOVEALL; that command exists, so an empty REPLACE is a mistake.
  if (streams.length === 0) {
    return rejected(`${type.toUpperCase()} does not contain valid details of streams`, skipped);
  }
  return { ok: true, command: { type, streams }, skipped };
}

function rejected(reason: string, skipped: readonly string[] = []): CommandParseResult {
  return { ok: false, reason, skipped };
}

/** The stream an ADD or REPLACE asks for, or why it cannot be added. */
function addedStream(stream: RawStream): StreamSpec | string {
  const protocol = PROTOCOL_OF_NUMBER.get(stream.protocol);
  if (protocol === undefined) return `unknown protocol ${stream.protocol}`;
  if (stream.channel === '') return 'empty PV name';
  if (stream.channel.length > MAX_PV_NAME_LENGTH)
    return `PV name longer than ${MAX_PV_NAME_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex -- control characters are what this rejects
  if (/[\s\u0000-\u001f]/.test(stream.channel)) return 'PV name contains white space or control characters';
  if (stream.topic === '') return 'empty topic';
  const topicProblem = forwarderTopicProblem(stream.topic);
  if (topicProblem !== undefined) return `topic '${printable(stream.topic)}' ${topicProblem}`;
  if (stream.schema === '') return 'empty schema';
  if (!isSchemaOfProtocol(protocol, stream.schema)) return unavailableSchema(stream.schema, protocol);
  return {
    pvName: stream.channel,
    protocol,
    topic: stream.topic,
    schema: stream.schema,
    periodic: stream.periodic !== 0,
  };
}

/** The pattern of a REMOVE request stream, or why it is unusable. */
function removePattern(stream: RawStream): StreamPattern | string {
  if (stream.channel === '' && stream.topic === '' && stream.schema === '') return 'matches nothing specific';
  const protocol = PROTOCOL_OF_NUMBER.get(stream.protocol);
  if (protocol === undefined) return `unknown protocol ${stream.protocol}`;
  const { schema } = stream;
  if (schema !== '' && !isSchemaOfProtocol(protocol, schema)) return unavailableSchema(schema, protocol);
  return { pvName: stream.channel, topic: stream.topic, schema };
}

function unavailableSchema(schema: string, protocol: EpicsProtocol): string {
  return unavailableSchemaReason(protocol, printable(schema));
}

function describeRaw(stream: RawStream): string {
  return `stream name='${printable(stream.channel)}', topic='${printable(stream.topic)}', schema='${printable(stream.schema)}'`;
}

/** Text from the wire, safe for one log line: control characters escaped, cut to a sane length. */
function printable(text: string): string {
  const clipped = text.length > 200 ? `${text.slice(0, 200)}...(${text.length} characters)` : text;
  return clipped.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what this escapes
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
