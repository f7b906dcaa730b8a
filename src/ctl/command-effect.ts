/**
 * Whether the forwarders' status shows a stream command's effect, for `--wait`: after an ADD every stream is
 * listed, after a REMOVE no stream matching a pattern is, after a REPLACE exactly the given streams are. Only
 * status messages sent after the command count, from every forwarder heard from since (the members of a
 * forwarding group each list their share).
 */
import { Protocol, type Fc00Stream } from '../schemas/index.js';
import { fieldMatcher } from '../streams/wildcard.js';
import type { StreamCommand } from './stream-commands.js';
import type { ForwarderInstance } from './status-view.js';

/** What the status shows of a command: done, or what is still missing (a few stream names). */
export interface CommandEffect {
  readonly done: boolean;
  /** Why not yet, for the message when waiting gives up. */
  readonly pending: string;
}

/** Names at most this many streams when saying what is missing. */
const NAMED = 5;

interface Listed {
  readonly pv: string;
  readonly protocol: string;
  readonly topic: string;
  readonly schema: string;
}

const keyOf = ({ pv, protocol, topic, schema }: Listed): string =>
  [pv, protocol, topic, schema].join('\u0000');

function listedOf(entry: Readonly<Record<string, unknown>>): Listed {
  return {
    pv: String(entry['channel_name']),
    protocol: String(entry['protocol']),
    topic: String(entry['output_topic']),
    schema: String(entry['schema']),
  };
}

function requested(stream: Fc00Stream): Listed {
  return {
    pv: stream.channel,
    protocol: Protocol[stream.protocol] ?? '',
    topic: stream.topic,
    schema: stream.schema,
  };
}

function named(streams: readonly Listed[]): string {
  const names = streams.slice(0, NAMED).map((stream) => `${stream.pv} (${stream.topic})`);
  return streams.length > NAMED ? `${names.join(', ')} and ${streams.length - NAMED} more` : names.join(', ');
}

/**
 * The effect of `command` with `streams` as the status messages sent since `sentMs` show it. `instances` are every
 * forwarder seen on the status topic; those not heard from since the command do not count.
 */
export function commandEffect(
  command: StreamCommand,
  streams: readonly Fc00Stream[],
  instances: readonly ForwarderInstance[],
  sentMs: number,
): CommandEffect {
  const heard = instances.filter(
    (instance) => instance.lastSeenMs >= sentMs && instance.streams !== null && instance.state !== 'stopped',
  );
  if (heard.length === 0) return { done: false, pending: 'no forwarder sent its status since the command' };
  const listed = heard.flatMap((instance) => (instance.streams ?? []).map(listedOf));
  if (command === 'remove') {
    const matchers = streams.map((pattern) => {
      const pv = fieldMatcher(pattern.channel);
      const topic = fieldMatcher(pattern.topic);
      return (stream: Listed): boolean =>
        pv(stream.pv) && topic(stream.topic) && (pattern.schema === '' || pattern.schema === stream.schema);
    });
    const left = listed.filter((stream) => matchers.some((matches) => matches(stream)));
    return left.length === 0
      ? { done: true, pending: '' }
      : { done: false, pending: `${left.length} matching still forwarded: ${named(left)}` };
  }
  const listedKeys = new Set(listed.map(keyOf));
  const wanted = streams.map(requested);
  const missing = wanted.filter((stream) => !listedKeys.has(keyOf(stream)));
  const wantedKeys = new Set(wanted.map(keyOf));
  const extra = command === 'replace' ? listed.filter((stream) => !wantedKeys.has(keyOf(stream))) : [];
  const pending = [
    ...(missing.length === 0 ? [] : [`${missing.length} of ${wanted.length} not listed: ${named(missing)}`]),
    ...(extra.length === 0
      ? []
      : [`${extra.length} other${extra.length === 1 ? '' : 's'} still forwarded: ${named(extra)}`]),
  ].join('; ');
  return { done: pending === '', pending };
}
