/**
 * Reading what a forwarder under test sent: messages of one schema and PV from a topic, status stream lists,
 * union member names, and EPICS timestamps read independently with p4p to compare against.
 */
import type { F142Value, FileIdentifier, MessageOf, X5f2Message } from '../../src/schemas/index.js';
import type { ForwarderWorld } from './forwarder-world.js';
import { runPythonCode } from './python.js';
import type { ReadMessage, TopicReader } from './topic-reader.js';

export interface Forwarded<S extends FileIdentifier> {
  readonly message: MessageOf[S];
  readonly read: ReadMessage;
}

/** Messages of `schema` on `topic` (from index `since` on), optionally only those keyed `pvName`. */
export function forwarded<S extends FileIdentifier>(
  reader: TopicReader,
  topic: string,
  schema: S,
  pvName?: string,
  since = 0,
): Array<Forwarded<S>> {
  const found: Array<Forwarded<S>> = [];
  const messages = reader.of(topic);
  for (let i = since; i < messages.length; i++) {
    const read = messages[i] as ReadMessage;
    if (read.decoded?.schema !== schema || (pvName !== undefined && read.key !== pvName)) continue;
    found.push({ message: read.decoded.message as MessageOf[S], read });
  }
  return found;
}

/** Waits until the messages of `schema` and `pvName` on `topic` satisfy `predicate`; returns them. */
export async function waitForForwarded<S extends FileIdentifier>(
  reader: TopicReader,
  topic: string,
  schema: S,
  pvName: string | undefined,
  predicate: (messages: Array<Forwarded<S>>) => boolean,
  options: { since?: number; timeoutMs?: number; what?: string } = {},
): Promise<Array<Forwarded<S>>> {
  const since = options.since ?? 0;
  await reader.waitFor(
    topic,
    () => predicate(forwarded(reader, topic, schema, pvName, since)),
    options.timeoutMs ?? 20_000,
    options.what ?? `${schema} messages of ${pvName ?? 'any PV'}`,
  );
  return forwarded(reader, topic, schema, pvName, since);
}

/** One entry of the status JSON's `streams` list. */
export interface StatusStream {
  readonly channel_name: string;
  readonly protocol: string;
  readonly output_topic: string;
  readonly schema: string;
  readonly periodic?: boolean;
  readonly connection?: string;
}

export function statusStreams(message: ReadMessage): StatusStream[] | undefined {
  if (message.decoded?.schema !== 'x5f2') return undefined;
  const status = JSON.parse((message.decoded.message as X5f2Message).statusJson) as {
    streams: StatusStream[];
  };
  return status.streams;
}

/** Waits for a status message, after the first `since` of the status topic, whose streams satisfy `predicate`. */
export async function waitForStatus(
  world: ForwarderWorld,
  since: number,
  predicate: (streams: StatusStream[]) => boolean,
  what = 'a matching status message',
): Promise<StatusStream[]> {
  let matched: StatusStream[] | undefined;
  await world.reader.waitFor(
    world.topics.status,
    (messages) => {
      for (let i = messages.length - 1; i >= since; i--) {
        const streams = statusStreams(messages[i] as ReadMessage);
        if (streams !== undefined && predicate(streams)) {
          matched = streams;
          return true;
        }
      }
      return false;
    },
    20_000,
    what,
  );
  return matched ?? [];
}

const MEMBER_OF_TYPE = {
  int8: 'Byte',
  uint8: 'UByte',
  int16: 'Short',
  uint16: 'UShort',
  int32: 'Int',
  uint32: 'UInt',
  int64: 'Long',
  uint64: 'ULong',
  float32: 'Float',
  float64: 'Double',
} as const;

/** The value union member's name as the schemas spell it: Double, ArrayUByte, String, ... */
export function memberName(value: F142Value): string {
  switch (value.kind) {
    case 'scalar':
      return MEMBER_OF_TYPE[value.type];
    case 'array':
      return `Array${MEMBER_OF_TYPE[value.type]}`;
    case 'string':
      return 'String';
    case 'stringArray':
      return 'ArrayString';
  }
}

/** The value as plain JSON-comparable data: arrays as number arrays, 64-bit integers as numbers. */
export function plainValue(value: F142Value): unknown {
  if (value.kind === 'scalar') return Number(value.value);
  if (value.kind === 'array') return Array.from(value.value as ArrayLike<number | bigint>, Number);
  return value.value;
}

/**
 * The current EPICS timestamps (ns since the Unix epoch, exact) of PVs, read with p4p (raw values, so the
 * integer seconds and nanoseconds are not rounded through a float).
 */
export async function epicsTimestampsNs(
  env: Record<string, string>,
  pvNames: readonly string[],
): Promise<Map<string, bigint>> {
  const code = `
import json, sys
from p4p.client.thread import Context
names = json.load(sys.stdin)
ctx = Context('pva', nt=False)
values = ctx.get(names, timeout=10)
ctx.close()
print(json.dumps({n: str(v['timeStamp.secondsPastEpoch'] * 1000000000 + v['timeStamp.nanoseconds']) for n, v in zip(names, values)}))
`;
  const { stdout } = await runPythonCode(code, { env, input: JSON.stringify(pvNames), timeoutMs: 30_000 });
  const parsed = JSON.parse(stdout) as Record<string, string>;
  return new Map(Object.entries(parsed).map(([name, ns]) => [name, BigInt(ns)]));
}

/**
 * Puts each value in turn with p4p and reads the PV back after each put: the EPICS timestamps (ns, exact) the
 * puts gave it.
 */
export async function putAndReadTimestampsNs(
  env: Record<string, string>,
  pvName: string,
  values: readonly unknown[],
): Promise<bigint[]> {
  const code = `
import json, sys
from p4p.client.thread import Context
name, values = json.load(sys.stdin)
ctx = Context('pva', nt=False)
stamps = []
for value in values:
    ctx.put(name, value, timeout=10)
    v = ctx.get(name, timeout=10)
    stamps.append(str(v['timeStamp.secondsPastEpoch'] * 1000000000 + v['timeStamp.nanoseconds']))
ctx.close()
print(json.dumps(stamps))
`;
  const { stdout } = await runPythonCode(code, {
    env,
    input: JSON.stringify([pvName, values]),
    timeoutMs: 30_000,
  });
  return (JSON.parse(stdout) as string[]).map(BigInt);
}
