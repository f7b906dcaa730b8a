/**
 * forwarder-ctl: the operator's tool for forwarders. Sends config commands (fc00) to a config topic, shows what
 * forwarders report on a status topic and what a storage topic holds, and decodes any ESS message on a topic.
 * Resolves with the exit code: 0 done, 1 the operation failed (Kafka unreachable, topic missing, not
 * delivered), 2 a usage mistake (arguments, stream file, URI); nothing is sent after a usage mistake.
 */
import { Command, CommanderError, Option } from 'commander';
import { kafkaUriSyntax } from '../cli/kafka-uri.js';
import { packageVersion } from '../cli/version.js';
import { parseConfigMessage } from '../streams/commands.js';
import { EPICS_PROTOCOLS, PROTOCOL_LABEL } from '../model/protocol.js';
import { OUTPUT_SCHEMA_NAMES, type StreamSpec } from '../model/stream.js';
import { fieldMatcher } from '../streams/wildcard.js';
import {
  type DecodedMessage,
  deserialiseAny,
  deserialiseX5f2,
  type Fc00Stream,
  readFileIdentifier,
  X5F2_IDENTIFIER,
} from '../schemas/index.js';
import { CtlError, UsageError } from './errors.js';
import {
  BROKER_ENV,
  DEFAULT_TIMEOUT_S,
  type GlobalOptions,
  type KafkaAccess,
  kafkaAccess,
  SASL_PASSWORD_ENV,
  SASL_PASSWORD_FILE_ENV,
  topicOf,
} from './kafka-access.js';
import { ClientLog, readStoredStreams, readTopic, sendMessages } from './kafka-io.js';
import { messageJson, sourceNames } from './message-json.js';
import {
  groupStorageTopics,
  groupSummaries,
  StatusCollector,
  statusDocument,
  type StreamName,
  statusText,
} from './status-view.js';
import { commandMessages, commandStreams, removeAllMessage, type StreamCommand } from './stream-commands.js';
import {
  entriesFromArguments,
  readStreamFile,
  STREAM_FILE_FORMATS,
  type StreamEntry,
  type StreamFileFormat,
} from './stream-file.js';
import { formatTable } from './table.js';
import { positiveInteger, positiveSeconds } from './values.js';

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

const programName = 'forwarder-ctl';
const helpWidth = 100;

interface StreamCommandOptions {
  readonly file?: string;
  readonly format?: StreamFileFormat;
  readonly dryRun?: boolean;
  readonly periodic?: boolean;
}

interface RemoveOptions extends StreamCommandOptions {
  readonly topic?: string;
  readonly schema?: string;
}

export async function runCtl(argv: readonly string[], io: CtlIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError || error instanceof CtlError) {
      const lines = error.message.split('\n').map((line) => `${programName}: ${line}\n`);
      io.stderr(lines.join(''));
      return error instanceof UsageError ? 2 : 1;
    }
    throw error;
  }
}

function buildProgram(io: CtlIo): Command {
  const program = new Command(programName)
    .description('Controls and inspects ESS forwarders through Kafka.')
    .version(packageVersion, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'print help and exit')
    .addHelpCommand(false)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`${programName}: ${text.replace(/^error: /, '')}`),
      getOutHelpWidth: () => helpWidth,
      getErrHelpWidth: () => helpWidth,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .option(
      '-b, --broker <uri>',
      `Kafka URI (see below); its /topic is the topic the command works on [${BROKER_ENV}]`,
    )
    .option('--sasl-password <password>', `SASL password for --broker [${SASL_PASSWORD_ENV}]`)
    .option(
      '--sasl-password-file <file>',
      `file holding the SASL password, less one trailing line break [${SASL_PASSWORD_FILE_ENV}]`,
    )
    .option('--ssl-ca-cert-file <file>', 'CA certificate file (PEM) for SSL and SASL_SSL')
    .option(
      '--ssl-certificate-file <file>',
      'client certificate file (PEM) for mutual TLS; needs --ssl-key-file',
    )
    .option('--ssl-key-file <file>', 'client private key file (PEM) for mutual TLS')
    .option('--ssl-key-password <password>', 'password of --ssl-key-file')
    .option('--ssl-key-password-file <file>', 'file holding the password of --ssl-key-file')
    .option(
      '--kafka-config <key=value>',
      'extra librdkafka property, overriding the others; repeatable, several separated by ";"',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--timeout <s>', `bound on connecting to Kafka and on delivery (default: ${DEFAULT_TIMEOUT_S})`)
    .addHelpText('after', helpEpilogue());

  const formatOption = (): Option =>
    new Option('--format <format>', 'stream file format (default: from the file name)').choices(
      STREAM_FILE_FORMATS,
    );
  const fileHelp = 'read streams from a JSON, YAML or CSV file ("-": stdin)';

  for (const command of ['add', 'replace'] as const) {
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
      .option('--dry-run', 'check and print the commands instead of sending them')
      .action(async (args: string[], options: StreamCommandOptions, self: Command) => {
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

  program
    .command('remove')
    .description('stop forwarding the streams that match (send an fc00 REMOVE)')
    .argument('[pv...]', 'PV names; wildcards * ? [..] match many (quote them for the shell)')
    .option('--topic <pattern>', 'only streams whose output topic matches (wildcards)')
    .option('--schema <schema>', 'only streams with this schema (exact)')
    .option('-f, --file <path>', `${fileHelp}; empty fields match anything`)
    .addOption(formatOption())
    .option('--dry-run', 'check and print the command instead of sending it')
    .action(async (pvs: string[], options: RemoveOptions, self: Command) => {
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

  program
    .command('status')
    .description('show the forwarders reporting on a status topic, and their streams')
    .argument('[topic]', 'status topic (default: the topic of --broker)')
    .option('--json', 'print JSON (one document per line with --watch)')
    .option('-w, --watch', 'keep reading and refresh until interrupted')
    .option('--interval <s>', 'refresh period of --watch', '2')
    .option('--since <s>', 'show forwarders heard from in the last <s> seconds', '60')
    .action(
      async (
        argument: string | undefined,
        options: { json?: boolean; watch?: boolean; interval: string; since: string },
        self: Command,
      ) => {
        const sinceS = positiveSeconds('--since', options.since, 10 * 365 * 86_400);
        const intervalS = positiveSeconds('--interval', options.interval);
        const access = accessOf(io, self);
        const topic = topicOf(access, 'status topic', { argument });
        await showStatus(io, access, topic, {
          sinceS,
          intervalS,
          json: options.json ?? false,
          watch: options.watch ?? false,
        });
      },
    );

  program
    .command('stored')
    .description('show the stream set stored on a storage topic (its newest valid message)')
    .argument('[topic]', 'storage topic (default: the topic of --broker)')
    .option('--json', 'print the streams as JSON, in the stream file format (usable with replace --file)')
    .action(async (argument: string | undefined, options: { json?: boolean }, self: Command) => {
      const access = accessOf(io, self);
      const topic = topicOf(access, 'storage topic', { argument });
      const stored = await readStoredStreams(access, topic, warningLog(io));
      if (stored === undefined) throw new CtlError(`no stored stream set on ${topic}`);
      const parsed = parseConfigMessage(stored);
      // readStoredStreams only returns messages that parse as an ADD or a REMOVEALL.
      const streams = parsed.ok && parsed.command.type === 'add' ? parsed.command.streams : [];
      io.stdout(
        options.json ? `${JSON.stringify(streams.map(streamFileEntry))}\n` : storedText(topic, streams),
      );
    });

  program
    .command('tail')
    .description('print the ESS messages on a topic as JSON, one line each, until interrupted')
    .argument('[topic]', 'topic to read (default: the topic of --broker)')
    .option('--from-beginning', 'start at the oldest message instead of new ones')
    .option('-n, --max <n>', 'stop after printing <n> messages')
    .option('--source <pattern>', 'only messages about matching PVs (source name; wildcards * ? [..])')
    .option('--no-follow', 'stop at the end of the topic instead of waiting for new messages')
    .action(
      async (
        argument: string | undefined,
        options: { fromBeginning?: boolean; max?: string; source?: string; follow: boolean },
        self: Command,
      ) => {
        const max = options.max === undefined ? Infinity : positiveInteger('--max', options.max);
        const access = accessOf(io, self);
        const topic = topicOf(access, 'topic to read', { argument });
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
              const line = tailLine(message, options.source === undefined ? undefined : matches);
              if (line === undefined) return true;
              io.stdout(line);
              return ++printed < max;
            },
          },
          warningLog(io),
        );
      },
    );
  return program;
}

function helpEpilogue(): string {
  return [
    '',
    'Streams on the command line: PV PROTOCOL TOPIC SCHEMA, e.g.',
    `  ${programName} -b localhost:9092/forwarder_commands add SIM:T1 ca motion f144 SIM:T2 pva motion f144`,
    `PROTOCOL is one of ${EPICS_PROTOCOLS.join(', ')}; SCHEMA one of ${OUTPUT_SCHEMA_NAMES.join(', ')}.`,
    '',
    `Kafka URI: ${kafkaUriSyntax}`,
    '  as forwarder-launch takes it; the port defaults to 9092. PROTOCOL is PLAINTEXT (the default), SSL,',
    '  SASL_PLAINTEXT or SASL_SSL; MECHANISM is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.',
    '',
    'Exit codes: 0 done, 1 the operation failed (Kafka unreachable, topic missing, ...), 2 usage mistake.',
  ].join('\n');
}

function accessOf(io: CtlIo, command: Command): KafkaAccess {
  return kafkaAccess(command.optsWithGlobals<GlobalOptions>(), io.env);
}

/** A ClientLog whose warnings (skipped junk on a storage topic) go to stderr. */
function warningLog(io: CtlIo): ClientLog {
  return new ClientLog((message) => io.stderr(`${programName}: warning: ${message}\n`));
}

async function fileEntries(options: StreamCommandOptions): Promise<StreamEntry[]> {
  return options.file === undefined ? [] : readStreamFile(options.file, options.format);
}

const COMMAND_NAME: { readonly [C in StreamCommand]: string } = {
  add: 'ADD',
  remove: 'REMOVE',
  replace: 'REPLACE',
};

async function sendStreams(
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

function printDecoded(io: CtlIo, messages: readonly Uint8Array[]): void {
  for (const message of messages) {
    const decoded = deserialiseAny(message);
    io.stdout(`${JSON.stringify({ schema: decoded.schema, message: messageJson(decoded) })}\n`);
  }
}

/** One `tail` line, or undefined when the message is filtered out. */
export function tailLine(
  message: { partition: number; offset: number; timestamp?: number; key?: unknown; value: Buffer | null },
  matches: ((name: string) => boolean) | undefined,
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

async function showStatus(
  io: CtlIo,
  access: KafkaAccess,
  topic: string,
  options: { sinceS: number; intervalS: number; json: boolean; watch: boolean },
): Promise<void> {
  const collector = new StatusCollector();
  const log = warningLog(io);
  const desiredSets = new DesiredStreamSets(access, log);
  const render = async (): Promise<void> => {
    const now = io.now();
    const instances = collector.instances(now);
    const groups = groupSummaries(instances, await desiredSets.of(groupStorageTopics(instances), now));
    if (options.json) io.stdout(`${JSON.stringify(statusDocument(topic, instances, now, groups))}\n`);
    else {
      const clear = options.watch && io.stdoutIsTTY ? '\u001b[H\u001b[2J' : '';
      const separator = options.watch && !io.stdoutIsTTY ? '\n' : '';
      io.stdout(`${clear}${statusText(topic, instances, now, options.sinceS, groups)}${separator}`);
    }
  };
  const sinceMs = io.now() - options.sinceS * 1000;
  const onMessage = (message: { value: Buffer | null; timestamp?: number }): boolean => {
    const payload = message.value ?? Buffer.alloc(0);
    const timestampMs = message.timestamp ?? io.now();
    // Reading starts at the first message sent since then, but producers' clocks differ: later messages can be older.
    if (timestampMs < sinceMs) return true;
    try {
      // Other services' messages on a shared status topic are not a forwarder's status: skip them.
      if (readFileIdentifier(payload) === X5F2_IDENTIFIER)
        collector.add(deserialiseX5f2(payload), timestampMs);
    } catch (error) {
      io.stderr(
        `${programName}: warning: skipping a malformed status message: ${(error as Error).message}\n`,
      );
    }
    return true;
  };
  const start = { sinceMs };
  if (!options.watch) {
    await readTopic(access, topic, { start, stopAtEnd: true, onMessage }, log);
    await render();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const refresh = (): void => {
    render().catch((error: unknown) => io.stderr(`${programName}: warning: ${(error as Error).message}\n`));
  };
  const onCaughtUp = (): void => {
    refresh();
    timer = setInterval(refresh, options.intervalS * 1000);
  };
  try {
    const signal = io.interrupted();
    await readTopic(access, topic, { start, stopAtEnd: false, signal, onMessage, onCaughtUp }, log);
  } finally {
    clearInterval(timer);
  }
}

/** How long `status --watch` reuses a group's desired stream set before reading its storage topic again. */
const DESIRED_SET_REFRESH_MS = 30_000;

/**
 * The desired stream set of each forwarding group, read from the storage topic its members name, so that status
 * can list the streams nobody forwards. A storage topic that cannot be read leaves the group's set unknown.
 */
class DesiredStreamSets {
  private readonly cache = new Map<string, { readMs: number; streams: readonly StreamName[] | undefined }>();

  constructor(
    private readonly access: KafkaAccess,
    private readonly log: ClientLog,
  ) {}

  async of(
    storageTopics: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<Map<string, readonly StreamName[]>> {
    const sets = new Map<string, readonly StreamName[]>();
    for (const [group, topic] of storageTopics) {
      let cached = this.cache.get(topic);
      if (cached === undefined || nowMs - cached.readMs > DESIRED_SET_REFRESH_MS) {
        cached = { readMs: nowMs, streams: await this.read(topic) };
        this.cache.set(topic, cached);
      }
      if (cached.streams !== undefined) sets.set(group, cached.streams);
    }
    return sets;
  }

  private async read(topic: string): Promise<readonly StreamName[] | undefined> {
    let stored: Uint8Array | undefined;
    try {
      stored = await readStoredStreams(this.access, topic, this.log);
    } catch {
      return undefined;
    }
    if (stored === undefined) return undefined;
    // readStoredStreams only returns messages that parse as an ADD or a REMOVEALL (an empty set).
    const parsed = parseConfigMessage(stored);
    if (!parsed.ok || parsed.command.type !== 'add') return [];
    return parsed.command.streams.map((stream) => ({
      pv: stream.pvName,
      protocol: PROTOCOL_LABEL[stream.protocol],
      topic: stream.topic,
      schema: stream.schema,
    }));
  }
}

/** A stream as a stream file entry (`stored --json`), so the output can be fed back with --file. */
function streamFileEntry(stream: StreamSpec): Record<string, unknown> {
  return {
    pv: stream.pvName,
    protocol: stream.protocol,
    topic: stream.topic,
    schema: stream.schema,
    periodic: stream.periodic,
  };
}

function storedText(topic: string, streams: readonly StreamSpec[]): string {
  if (streams.length === 0) return `The stream set stored on ${topic} is empty.\n`;
  const rows = streams.map((stream) => [
    stream.pvName,
    PROTOCOL_LABEL[stream.protocol],
    stream.topic,
    stream.schema,
    stream.periodic ? 'yes' : 'no',
  ]);
  return formatTable(['PV', 'PROTOCOL', 'TOPIC', 'SCHEMA', 'PERIODIC'], rows);
}
