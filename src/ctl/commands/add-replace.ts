/** forwarder-ctl add and replace: streams from the arguments and a stream file, sent as fc00 ADD or REPLACE. */
import type { Command } from 'commander';
import { commandStreams } from '../stream-commands.js';
import { entriesFromArguments } from '../stream-file.js';
import type { CtlIo } from './common.js';
import {
  addWaitOptions,
  fileEntries,
  fileHelp,
  formatOption,
  sendStreams,
  type StreamCommandOptions,
} from './send-streams.js';

export function registerAddAndReplace(program: Command, io: CtlIo): void {
  for (const command of ['add', 'replace'] as const) {
    addWaitOptions(
      program
        .command(command)
        .description(
          command === 'add'
            ? 'start forwarding streams (send an fc00 ADD to the config topic)'
            : 'make the given streams the whole stream set (send an fc00 REPLACE)',
        )
        .argument('[stream...]', 'PV PROTOCOL TOPIC SCHEMA, repeated for more streams')
        .option('--periodic', 'flag the streams periodic (re-sent every --pv-update-period of the forwarder)')
        .option('-f, --file <path>', fileHelp)
        .addOption(formatOption())
        .option('--dry-run', 'check and print the commands instead of sending them'),
    ).action(async (args: string[], options: StreamCommandOptions, self: Command) => {
      const entries = [...entriesFromArguments(args), ...(await fileEntries(options))];
      await sendStreams(
        io,
        command,
        commandStreams(command, entries, options.periodic ?? false),
        options,
        self,
      );
    });
  }
}
