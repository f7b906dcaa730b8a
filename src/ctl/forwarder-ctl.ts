import { once } from 'node:events';
import { createInterface } from 'node:readline/promises';
import { runCtl } from './program.js';

let interrupted: AbortController | undefined;

// `forwarder-ctl tail ... | head` closes the pipe early: that ends the output, not with an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const exitCode = await runCtl(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stdoutDrained: async () => {
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
  },
  stderr: (text) => process.stderr.write(text),
  stdoutIsTTY: process.stdout.isTTY === true,
  confirm: process.stdin.isTTY
    ? async (question) => {
        const terminal = createInterface({ input: process.stdin, output: process.stderr });
        try {
          return /^y(es)?$/i.test((await terminal.question(question)).trim());
        } finally {
          terminal.close();
        }
      }
    : undefined,
  // Only commands that run until stopped catch Ctrl-C; a second one ends the process at once.
  interrupted: () => {
    if (interrupted === undefined) {
      const controller = new AbortController();
      interrupted = controller;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
    }
    return interrupted.signal;
  },
  now: Date.now,
});
// Exit explicitly once stdout is written: librdkafka's threads must not keep the process up.
process.stdout.write('', () => process.exit(exitCode));
