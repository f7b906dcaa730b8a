/** forwarder-ctl tail: the messages on a topic decoded, one line each, as JSON or as text for people. */
import { type Command, Option } from 'commander';
import { type DecodedMessage, deserialiseAny } from '../../schemas/index.js';
import { fieldMatcher } from '../../streams/wildcard.js';
import { topicOf } from '../kafka-access.js';
import { readTopic } from '../kafka-io.js';
import { messageJson, sourceNames } from '../message-json.js';
import { messageText } from '../message-text.js';
import { positiveInteger } from '../values.js';
import { accessOf, type CtlIo, warningLog } from './common.js';

const TAIL_FORMATS = ['json', 'text'] as const;
type TailFormat = (typeof TAIL_FORMATS)[number];

export function registerTail(program: Command, io: CtlIo): void {
  program
    .command('tail')
    .description('print the ESS messages on a topic decoded, one line each, until interrupted')
    .argument('[topic]', 'topic to read (default: the topic of --broker)')
    .option('--from-beginning', 'start at the oldest message instead of new ones')
    .option('-n, --max <n>', 'stop after printing <n> messages')
    .option('--source <pattern>', 'only messages about matching PVs (source name; wildcards * ? [..])')
    .option('--no-follow', 'stop at the end of the topic instead of waiting for new messages')
    .addOption(
      new Option(
        '--format <format>',
        'json: every field of each message; text: time, schema, PV, and value, alarm or connection state',
      )
        .choices(TAIL_FORMATS)
        .default('json'),
    )
    .action(
      async (
        argument: string | undefined,
        options: {
          fromBeginning?: boolean;
          max?: string;
          source?: string;
          follow: boolean;
          format: TailFormat;
        },
        self: Command,
      ) => {
        const max = options.max === undefined ? Infinity : positiveInteger('--max', options.max);
        const access = accessOf(io, self);
        const topic = topicOf(access, 'topic to read', { argument }, 'readable');
        const matches = fieldMatcher(options.source);
        let printed = 0;
        await readTopic(
          access,
          topic,
          {
            start: options.fromBeginning ? 'beginning' : 'end',
            stopAtEnd: !options.follow,
            signal: io.interrupted(),
            pace: io.stdoutDrained,
            onMessage: (message) => {
              const line = tailLine(
                message,
                options.source === undefined ? undefined : matches,
                options.format,
              );
              if (line === undefined) return true;
              io.stdout(line);
              return ++printed < max;
            },
          },
          warningLog(io),
        );
      },
    );
}

/** One `tail` line, or undefined when the message is filtered out. */
export function tailLine(
  message: { partition: number; offset: number; timestamp?: number; key?: unknown; value: Buffer | null },
  matches: ((name: string) => boolean) | undefined,
  format: TailFormat = 'json',
): string | undefined {
  const payload = message.value ?? Buffer.alloc(0);
  let decoded: DecodedMessage | undefined;
  let error: string | undefined;
  try {
    decoded = deserialiseAny(payload);
  } catch (decodeError) {
    error = (decodeError as Error).message;
  }
  if (matches !== undefined && (decoded === undefined || !sourceNames(decoded).some(matches)))
    return undefined;
  if (format === 'text') return `${messageText(decoded, message.timestamp, error)}\n`;
  const key = Buffer.isBuffer(message.key)
    ? message.key.toString()
    : typeof message.key === 'string'
      ? message.key
      : null;
  const record = {
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp ?? null,
    key,
    ...(decoded === undefined
      ? { error, size: payload.length }
      : { schema: decoded.schema, message: messageJson(decoded) }),
  };
  return `${JSON.stringify(record)}\n`;
}
