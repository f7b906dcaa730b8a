/**
 * What add, replace and remove share: the stream file options, sending (or printing) the fc00 messages, and
 * waiting until the forwarders' status shows the effect (--wait).
 */
import { Option, type Command } from 'commander';
import {
  deserialiseX5f2,
  type Fc00Stream,
  readFileIdentifier,
  X5F2_IDENTIFIER,
} from '../../schemas/index.js';
import { commandEffect } from '../command-effect.js';
import { CtlError, UsageError } from '../errors.js';
import { type KafkaAccess, topicOf } from '../kafka-access.js';
import { readTopic, sendMessages } from '../kafka-io.js';
import { StatusCollector } from '../status-view.js';
import { commandMessages, type StreamCommand } from '../stream-commands.js';
import {
  readStreamFile,
  STREAM_FILE_FORMATS,
  type StreamEntry,
  type StreamFileFormat,
} from '../stream-file.js';
import { positiveSeconds } from '../values.js';
import { accessOf, type CtlIo, printDecoded, warningLog } from './common.js';

export interface StreamCommandOptions {
  readonly file?: string;
  readonly format?: StreamFileFormat;
  readonly dryRun?: boolean;
  readonly periodic?: boolean;
  readonly wait?: boolean;
  readonly statusTopic?: string;
  readonly waitTimeout: string;
}

/** --wait and what it needs: the status topic (on the same broker) and how long to wait. */
export function addWaitOptions(command: Command): Command {
  return command
    .option('--wait', "wait until the forwarders' status shows the effect (needs --status-topic)")
    .option('--status-topic <topic>', 'status topic of the forwarders, on the same broker, for --wait')
    .option('--wait-timeout <s>', 'give up waiting after <s> seconds (exit 1)', '30');
}

export const fileHelp = 'read streams from a JSON, YAML or CSV file ("-": stdin)';

export const formatOption = (): Option =>
  new Option('--format <format>', 'stream file format (default: from the file name)').choices(
    STREAM_FILE_FORMATS,
  );

export async function fileEntries(options: StreamCommandOptions): Promise<StreamEntry[]> {
  return options.file === undefined ? [] : readStreamFile(options.file, options.format);
}

const COMMAND_NAME: { readonly [C in StreamCommand]: string } = {
  add: 'ADD',
  remove: 'REMOVE',
  replace: 'REPLACE',
};

export async function sendStreams(
  io: CtlIo,
  command: StreamCommand,
  streams: readonly Fc00Stream[],
  options: StreamCommandOptions,
  self: Command,
): Promise<void> {
  const messages = commandMessages(command, streams);
  if (options.dryRun) return printDecoded(io, messages);
  const access = accessOf(io, self);
  const topic = topicOf(access, 'config topic');
  const timeoutS = positiveSeconds('--wait-timeout', options.waitTimeout, 3600);
  const statusTopic =
    options.wait === true
      ? topicOf(access, 'status topic', { argument: options.statusTopic ?? missingStatusTopic() })
      : undefined;
  const sentMs = io.now();
  await sendMessages(access, topic, messages, warningLog(io));
  const count = `${streams.length} ${command === 'remove' ? 'pattern' : 'stream'}${streams.length === 1 ? '' : 's'}`;
  const parts = messages.length === 1 ? '' : ` in ${messages.length} messages`;
  io.stdout(`Sent ${COMMAND_NAME[command]} of ${count} to ${topic}${parts}.\n`);
  if (statusTopic !== undefined)
    await waitForEffect(io, access, statusTopic, command, streams, sentMs, timeoutS);
}

function missingStatusTopic(): never {
  throw new UsageError('--wait needs --status-topic: the topic the forwarders send their status to');
}

/** Reads the status topic from the moment the command was sent until the status shows its effect, or gives up. */
async function waitForEffect(
  io: CtlIo,
  access: KafkaAccess,
  statusTopic: string,
  command: StreamCommand,
  streams: readonly Fc00Stream[],
  sentMs: number,
  timeoutS: number,
): Promise<void> {
  const collector = new StatusCollector();
  let effect = commandEffect(command, streams, [], sentMs);
  const signal = AbortSignal.any([io.interrupted(), AbortSignal.timeout(timeoutS * 1000)]);
  await readTopic(
    access,
    statusTopic,
    {
      start: { sinceMs: sentMs },
      stopAtEnd: false,
      signal,
      onMessage: (message) => {
        const payload = message.value ?? Buffer.alloc(0);
        try {
          if (readFileIdentifier(payload) !== X5F2_IDENTIFIER) return true;
          collector.add(deserialiseX5f2(payload), message.timestamp ?? io.now());
        } catch {
          return true; // Not a status message of a forwarder; status reports those.
        }
        effect = commandEffect(command, streams, collector.instances(io.now()), sentMs);
        return !effect.done;
      },
    },
    warningLog(io),
  );
  const waitedS = ((io.now() - sentMs) / 1000).toFixed(1);
  if (effect.done) {
    io.stdout(`The forwarders' status shows it after ${waitedS} s.\n`);
    return;
  }
  throw new CtlError(
    `the forwarders' status on ${statusTopic} did not show the ${COMMAND_NAME[command]} within ${waitedS} s: ${effect.pending}`,
  );
}
