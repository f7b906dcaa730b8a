/** What add, replace and remove share: the stream file options, and sending (or printing) the fc00 messages. */
import { Option, type Command } from 'commander';
import type { Fc00Stream } from '../../schemas/index.js';
import { topicOf } from '../kafka-access.js';
import { sendMessages } from '../kafka-io.js';
import { commandMessages, type StreamCommand } from '../stream-commands.js';
import {
  readStreamFile,
  STREAM_FILE_FORMATS,
  type StreamEntry,
  type StreamFileFormat,
} from '../stream-file.js';
import { accessOf, type CtlIo, printDecoded, warningLog } from './common.js';

export interface StreamCommandOptions {
  readonly file?: string;
  readonly format?: StreamFileFormat;
  readonly dryRun?: boolean;
  readonly periodic?: boolean;
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
  await sendMessages(access, topic, messages, warningLog(io));
  const count = `${streams.length} ${command === 'remove' ? 'pattern' : 'stream'}${streams.length === 1 ? '' : 's'}`;
  const parts = messages.length === 1 ? '' : ` in ${messages.length} messages`;
  io.stdout(`Sent ${COMMAND_NAME[command]} of ${count} to ${topic}${parts}.\n`);
}
