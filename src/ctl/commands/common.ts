/** What every forwarder-ctl subcommand uses: the outside world (CtlIo), Kafka access and warnings. */
import type { Command } from 'commander';
import { deserialiseAny } from '../../schemas/index.js';
import { type GlobalOptions, type KafkaAccess, kafkaAccess } from '../kafka-access.js';
import { ClientLog } from '../kafka-io.js';
import { messageJson } from '../message-json.js';

/** Everything the tool touches outside Kafka, so tests can run it in-process. */
export interface CtlIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  /** Resolves once stdout has taken what was written (a pager or a slow pipe reads at its own pace). */
  readonly stdoutDrained: () => Promise<void>;
  readonly stderr: (text: string) => void;
  /** Whether stdout is a terminal: `status --watch` then redraws the screen. */
  readonly stdoutIsTTY: boolean;
  /** Asks a yes/no question on the terminal; undefined when stdin is not a terminal. */
  readonly confirm: ((question: string) => Promise<boolean>) | undefined;
  /** A signal aborted by Ctrl-C (SIGINT) or SIGTERM, for commands that run until stopped. */
  readonly interrupted: () => AbortSignal;
  readonly now: () => number;
}

export const PROGRAM_NAME = 'forwarder-ctl';

/** The Kafka settings of the global options (and the environment) a subcommand was given. */
export function accessOf(io: CtlIo, command: Command): KafkaAccess {
  return kafkaAccess(command.optsWithGlobals<GlobalOptions>(), io.env);
}

/** A ClientLog whose warnings (skipped junk on a storage topic) go to stderr. */
export function warningLog(io: CtlIo): ClientLog {
  return new ClientLog((message) => io.stderr(`${PROGRAM_NAME}: warning: ${message}\n`));
}

/** Prints each message decoded, as one JSON line with its schema, for --dry-run. */
export function printDecoded(io: CtlIo, messages: readonly Uint8Array[]): void {
  for (const message of messages) {
    const decoded = deserialiseAny(message);
    io.stdout(`${JSON.stringify({ schema: decoded.schema, message: messageJson(decoded) })}\n`);
  }
}
