/** forwarder-ctl remove-all: an fc00 REMOVEALL, after asking on a terminal. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { topicOf } from '../kafka-access.js';
import { sendMessages } from '../kafka-io.js';
import { removeAllMessage } from '../stream-commands.js';
import { accessOf, type CtlIo, printDecoded, warningLog } from './common.js';

export function registerRemoveAll(program: Command, io: CtlIo): void {
  program
    .command('remove-all')
    .description('stop forwarding every stream (send an fc00 REMOVEALL); asks first unless --yes')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'print the command instead of sending it')
    .action(async (options: { yes?: boolean; dryRun?: boolean }, self: Command) => {
      const message = removeAllMessage();
      if (options.dryRun) return printDecoded(io, [message]);
      const access = accessOf(io, self);
      const topic = topicOf(access, 'config topic');
      if (!options.yes) {
        if (io.confirm === undefined) {
          throw new UsageError('remove-all needs --yes when not run on a terminal');
        }
        const question = `Stop every stream of every forwarder listening on ${topic}? [y/N] `;
        if (!(await io.confirm(question))) {
          io.stderr('Nothing sent.\n');
          return;
        }
      }
      await sendMessages(access, topic, [message], warningLog(io));
      io.stdout(`Sent REMOVEALL to ${topic}.\n`);
    });
}
