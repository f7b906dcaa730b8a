/** forwarder-ctl remove: patterns (wildcards in PV names and topics) sent as an fc00 REMOVE. */
import type { Command } from 'commander';
import { commandStreams } from '../stream-commands.js';
import type { StreamEntry } from '../stream-file.js';
import type { CtlIo } from './common.js';
import {
  addWaitOptions,
  fileEntries,
  fileHelp,
  formatOption,
  sendStreams,
  type StreamCommandOptions,
} from './send-streams.js';

interface RemoveOptions extends StreamCommandOptions {
  readonly topic?: string;
  readonly schema?: string;
}

export function registerRemove(program: Command, io: CtlIo): void {
  addWaitOptions(
    program
      .command('remove')
      .description('stop forwarding the streams that match (send an fc00 REMOVE)')
      .argument('[pv...]', 'PV names; wildcards * ? [..] match many (quote them for the shell)')
      .option('--topic <pattern>', 'only streams whose output topic matches (wildcards)')
      .option('--schema <schema>', 'only streams with this schema (exact)')
      .option('-f, --file <path>', `${fileHelp}; empty fields match anything`)
      .addOption(formatOption())
      .option('--dry-run', 'check and print the command instead of sending it'),
  ).action(async (pvs: string[], options: RemoveOptions, self: Command) => {
    const where = (index: number): string => `pattern ${index + 1} of the arguments`;
    const topic = options.topic ?? '';
    const schema = options.schema ?? '';
    const fromArguments: StreamEntry[] =
      pvs.length === 0 && (topic !== '' || schema !== '')
        ? [{ pv: '', protocol: '', topic, schema, where: where(0) }]
        : pvs.map((pv, index) => ({ pv, protocol: '', topic, schema, where: where(index) }));
    const entries = [...fromArguments, ...(await fileEntries(options))];
    await sendStreams(io, 'remove', commandStreams('remove', entries), options, self);
  });
}
