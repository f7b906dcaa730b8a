/**
 * fc00 commands from stream entries. Each stream is checked by the daemon's own parser (src/streams/commands.ts) on
 * the message it would receive, so the tool refuses exactly what a forwarder would skip, before anything is sent.
 */
import { parseConfigMessage } from '../streams/commands.js';
import { EPICS_PROTOCOLS, type EpicsProtocol, PROTOCOL_LABEL } from '../model/protocol.js';
import { isOutputSchema, OUTPUT_SCHEMA_NAMES } from '../model/stream.js';
import { type Fc00Stream, Protocol, serialiseFc00, UpdateType } from '../schemas/index.js';
import { UsageError } from './errors.js';
import type { StreamEntry } from './stream-file.js';

export type StreamCommand = 'add' | 'remove' | 'replace';

const UPDATE_TYPE: { readonly [C in StreamCommand]: UpdateType } = {
  add: UpdateType.ADD,
  remove: UpdateType.REMOVE,
  replace: UpdateType.REPLACE,
};

/**
 * A REMOVE stream without a protocol: the forwarder ignores the protocol when matching, but checks the schema
 * against it, and pvAccess allows every schema.
 */
const REMOVE_PROTOCOL: EpicsProtocol = 'pva';

/** Problems listed one per line before the rest are only counted. */
const MAX_LISTED_PROBLEMS = 20;

/**
 * The fc00 streams of a command, checked as the forwarder checks them. Throws a UsageError listing every
 * problem (one line each) when any entry would be refused.
 */
export function commandStreams(
  command: StreamCommand,
  entries: readonly StreamEntry[],
  periodicDefault = false,
): Fc00Stream[] {
  if (entries.length === 0) throw new UsageError(`${command}: no streams given`);
  const problems: string[] = [];
  const streams: Fc00Stream[] = [];
  for (const entry of entries) {
    const problem = entryProblem(command, entry);
    if (problem !== undefined) {
      problems.push(`${entry.where}: ${problem}`);
      continue;
    }
    const stream = fc00Stream(command, entry, periodicDefault);
    // The forwarder's own checks, on the message it will receive.
    const parsed = parseConfigMessage(serialiseFc00({ configChange: checkedAs(command), streams: [stream] }));
    const refusal = parsed.skipped[0] ?? (parsed.ok ? undefined : parsed.reason);
    if (refusal === undefined) streams.push(stream);
    else problems.push(`${entry.where}: ${refusal}`);
  }
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
    if (problems.length > listed.length)
      listed.push(`... and ${problems.length - listed.length} more problems`);
    throw new UsageError(listed.join('\n'));
  }
  return streams;
}

/** REPLACE streams are checked like ADD streams: both become running streams. */
function checkedAs(command: StreamCommand): UpdateType {
  return command === 'remove' ? UpdateType.REMOVE : UpdateType.ADD;
}

/** What the forwarder cannot report well (it only sees numbers and unknown names), or undefined. */
function entryProblem(command: StreamCommand, entry: StreamEntry): string | undefined {
  if (entry.protocol === '' && command !== 'remove') return `no protocol (${EPICS_PROTOCOLS.join(', ')})`;
  if (entry.protocol !== '' && protocolOf(entry.protocol) === undefined) {
    return `unknown protocol '${entry.protocol}' (expected one of ${EPICS_PROTOCOLS.join(', ')})`;
  }
  if (entry.schema !== '' && !isOutputSchema(entry.schema)) {
    return `unknown schema '${entry.schema}' (expected one of ${OUTPUT_SCHEMA_NAMES.join(', ')})`;
  }
  return undefined;
}

function protocolOf(text: string): EpicsProtocol | undefined {
  return EPICS_PROTOCOLS.find((protocol) => protocol === text.toLowerCase());
}

function fc00Stream(command: StreamCommand, entry: StreamEntry, periodicDefault: boolean): Fc00Stream {
  const protocol = protocolOf(entry.protocol) ?? REMOVE_PROTOCOL;
  return {
    channel: entry.pv,
    schema: entry.schema,
    topic: entry.topic,
    protocol: Protocol[PROTOCOL_LABEL[protocol] as keyof typeof Protocol],
    periodic: command !== 'remove' && (entry.periodic ?? periodicDefault) ? 1 : 0,
  };
}

/**
 * Largest fc00 message sent: half of Kafka's default limit on a message (message.max.bytes, 1 MB), so thousands
 * of streams go as several messages instead of being refused by the broker.
 */
export const MAX_COMMAND_BYTES = 512 * 1024;

/**
 * The messages that carry a command: usually one; more when the streams do not fit in `maxBytes`. A REPLACE
 * split this way is a REPLACE of the first part followed by ADDs of the rest, which ends in the same stream set.
 */
export function commandMessages(
  command: StreamCommand,
  streams: readonly Fc00Stream[],
  maxBytes = MAX_COMMAND_BYTES,
): Uint8Array[] {
  const parts: Fc00Stream[][] = [[]];
  let size = MESSAGE_OVERHEAD_BOUND;
  for (const stream of streams) {
    const bytes = streamSizeBound(stream);
    const part = parts.at(-1) ?? [];
    if (part.length > 0 && size + bytes > maxBytes) {
      parts.push([stream]);
      size = MESSAGE_OVERHEAD_BOUND + bytes;
    } else {
      part.push(stream);
      size += bytes;
    }
  }
  return parts.map((part, index) =>
    serialiseFc00({
      configChange: command === 'replace' && index > 0 ? UpdateType.ADD : UPDATE_TYPE[command],
      streams: part,
    }),
  );
}

/** The REMOVEALL command (it carries no streams). */
export function removeAllMessage(): Uint8Array {
  return serialiseFc00({ configChange: UpdateType.REMOVEALL, streams: [] });
}

/** An upper bound of an fc00 message without streams: header, root table, its vtable, the vector's length. */
const MESSAGE_OVERHEAD_BOUND = 64;

/**
 * An upper bound of what one stream adds to an fc00 message: each string's length prefix, terminator and
 * padding (8 bytes over its UTF-8 length), the table (24), its vtable (16) and its offset in the vector (4).
 */
function streamSizeBound(stream: Fc00Stream): number {
  const text =
    Buffer.byteLength(stream.channel) + Buffer.byteLength(stream.topic) + Buffer.byteLength(stream.schema);
  return text + 3 * 8 + 24 + 16 + 4;
}
