/**
 * The launcher's options: one table (name, short name, environment variable, kind of value, default, help),
 * read from the command line (commander), the environment and a config file, in that order of precedence,
 * then checked and resolved into LauncherOptions. Nothing here exits the process or writes to a stream: the
 * outcome says what to print and with which exit code.
 */
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import rdkafka from '@confluentinc/kafka-javascript';
import { Command, CommanderError, Option } from 'commander';
import { KafkaClientConfigError, kafkaClientConfig } from '../kafka/client-config.js';
import { type GraylogAddress, parseGraylogAddress } from '../logging/gelf-transport.js';
import { ConfigFileError, fileErrorReason, readConfigFile, type ConfigFileEntry } from './config-file.js';
import {
  AddressError,
  checkTopic,
  KafkaUriError,
  kafkaUriSyntax,
  parseHostPort,
  parseKafkaUri,
} from './kafka-uri.js';
import type { GroupSettings } from '../group/membership.js';
import type { HostPort } from '../util/host-port.js';
import type { KafkaEndpoint, KafkaUri } from '../kafka/endpoint.js';
import type { LauncherOptions } from './launcher-options.js';
import type { Verbosity } from '../logging/logging.js';
import { packageVersion } from './version.js';

export type ParseOutcome =
  | { readonly kind: 'run'; readonly options: LauncherOptions }
  /** `output` ends with a newline; it goes to stdout for code 0 (help, version) and to stderr for code 2. */
  | { readonly kind: 'exit'; readonly code: 0 | 2; readonly output: string };

const programName = 'forwarder-launch';
const helpWidth = 100;

/** A wrong value; the message says what is wrong with it and never quotes a password. */
class OptionValueError extends Error {}

/** Any mistake in the options: becomes one line on stderr and exit code 2. */
class LaunchError extends Error {}

interface ValueKind<T> {
  /** Shown in help after the option; undefined for a flag, which takes no value on the command line. */
  readonly placeholder: string | undefined;
  /** Throws OptionValueError. */
  parse(text: string): T;
  /** For options that may be given many times: merges a value of higher precedence into one of lower. */
  combine?(lower: T, higher: T): T;
}

interface OptionSpec<T> {
  /** Also the key in the config file. */
  readonly long: string;
  readonly short?: string;
  readonly env?: string;
  readonly kind: ValueKind<T>;
  /** Parsed like a value from any other source. */
  readonly defaultText?: string;
  /** Only marks the option in help; assemble() asks for required values by name. */
  readonly required?: true;
  readonly help: string;
}

// --- Kinds of values -------------------------------------------------------------------------------------

function nonEmpty(text: string): string {
  if (text === '') throw new OptionValueError('must not be empty');
  return text;
}

const textValue = (placeholder: string): ValueKind<string> => ({ placeholder, parse: nonEmpty });

/** Never quoted in a message. */
const password: ValueKind<string> = { placeholder: 'password', parse: nonEmpty };

/** Far more than any password; a path to a device or a large file by mistake must not hang the launch. */
const maxPasswordFileBytes = 64 * 1024;

/**
 * A file holding a password (a file only the forwarder may read, a systemd credential, `<(pass show ...)`):
 * its content, less one trailing line break, is the password. Reads to the end, so a pipe works too. Neither
 * the content nor any part of it is ever quoted in a message.
 */
const passwordFile: ValueKind<string> = {
  placeholder: 'file',
  parse(path) {
    nonEmpty(path);
    let content: Buffer;
    try {
      content = readAtMost(path, maxPasswordFileBytes + 1);
    } catch (error) {
      throw new OptionValueError(`cannot read "${path}": ${fileErrorReason(error)}`);
    }
    if (content.length > maxPasswordFileBytes) {
      throw new OptionValueError(
        `"${path}" is longer than ${maxPasswordFileBytes} bytes: not a password file`,
      );
    }
    const text = content.toString('utf8').replace(/\r?\n$/, '');
    if (text === '') throw new OptionValueError(`"${path}" is empty`);
    return text;
  },
};

function readAtMost(path: string, limit: number): Buffer {
  const buffer = Buffer.alloc(limit);
  const descriptor = openSync(path, 'r');
  try {
    let length = 0;
    while (length < limit) {
      const read = readSync(descriptor, buffer, length, limit - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(descriptor);
  }
}

const flagTexts: ReadonlyMap<string, boolean> = new Map([
  ...['true', 'yes', 'on', '1'].map((text) => [text, true] as const),
  ...['false', 'no', 'off', '0'].map((text) => [text, false] as const),
]);

const flag: ValueKind<boolean> = {
  placeholder: undefined,
  parse(text) {
    const value = flagTexts.get(text.toLowerCase());
    if (value === undefined) throw new OptionValueError(`"${text}" is not true or false`);
    return value;
  },
};

/** Node's timers cannot wait longer (a larger delay fires after 1 ms). */
const maxTimerMs = 2 ** 31 - 1;

const integerPlaceholders = { milliseconds: 'ms', seconds: 's', count: 'n' } as const;

function positiveInteger(unit: keyof typeof integerPlaceholders): ValueKind<number> {
  const max = unit === 'seconds' ? Math.floor(maxTimerMs / 1000) : maxTimerMs;
  return {
    placeholder: integerPlaceholders[unit],
    parse(text) {
      const value = Number(text);
      if (!/^[0-9]+$/.test(text) || value < 1) {
        throw new OptionValueError(`"${text}" is not a positive integer (${unit})`);
      }
      if (value > max) throw new OptionValueError(`${text} ${unit} is more than the maximum, ${max}`);
      return value;
    },
  };
}

function hostPort(defaultPort?: number): ValueKind<HostPort> {
  return {
    placeholder: defaultPort === undefined ? 'host:port' : 'host[:port]',
    parse(text) {
      try {
        return parseHostPort(nonEmpty(text), defaultPort);
      } catch (error) {
        if (error instanceof AddressError) throw new OptionValueError(error.message);
        throw error;
      }
    },
  };
}

const loopback = '127.0.0.1';

/**
 * `port` alone listens on loopback (127.0.0.1), `host:port` on that host: the HTTP listener has no
 * authentication, so serving other hosts must be asked for by naming an address.
 */
const listenAddress: ValueKind<HostPort> = {
  placeholder: '[host:]port',
  parse(text) {
    return hostPort().parse(/^[0-9]+$/.test(text) ? `${loopback}:${text}` : text);
  },
};

/** `[udp:|tcp:]host:port`: GELF over UDP by default, TCP when asked (Graylog's TCP input is the reliable one). */
const graylogAddress: ValueKind<GraylogAddress> = {
  placeholder: 'address',
  parse(text) {
    try {
      return parseGraylogAddress(nonEmpty(text));
    } catch (error) {
      if (error instanceof RangeError) throw new OptionValueError(error.message);
      throw error;
    }
  },
};

const topicName: ValueKind<string> = {
  placeholder: 'topic',
  parse(text) {
    try {
      checkTopic(text);
    } catch (error) {
      if (error instanceof KafkaUriError) throw new OptionValueError(error.message);
      throw error;
    }
    return text;
  },
};

/** `topic: 'required'` for topic URIs; `'dropped'` for the output broker, whose topic part is ignored. */
function kafkaUri(topic: 'required' | 'dropped'): ValueKind<KafkaUri> {
  return {
    placeholder: 'uri',
    parse(text) {
      let uri: KafkaUri;
      try {
        uri = parseKafkaUri(text);
      } catch (error) {
        if (error instanceof KafkaUriError) throw new OptionValueError(error.message);
        throw error;
      }
      if (topic === 'dropped') return withoutTopic(uri);
      if (uri.topic === undefined) throw new OptionValueError('no topic given: add /topic after the brokers');
      return uri;
    },
  };
}

function withoutTopic({ topic: _ignored, ...uri }: KafkaUri): KafkaUri {
  return uri;
}

const verbosities: readonly Verbosity[] = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Critical'];

const verbosity: ValueKind<Verbosity> = {
  placeholder: 'level',
  parse(text) {
    const level = verbosities.find((name) => name.toLowerCase() === text.toLowerCase());
    if (level === undefined) throw new OptionValueError(`"${text}" is not one of ${verbosities.join(', ')}`);
    return level;
  },
};

const propertyNamePattern = /^[A-Za-z0-9._-]+$/;

/**
 * `key=value[;key=value...]`. Semicolons separate pairs because commas occur in librdkafka values
 * (`debug=broker,topic`). Values are never quoted in messages: they may be secrets.
 */
const kafkaProperties: ValueKind<Readonly<Record<string, string>>> = {
  placeholder: 'key=value',
  parse(text) {
    const properties: Record<string, string> = {};
    for (const pair of text.split(';')) {
      if (pair.trim() === '') continue;
      const equals = pair.indexOf('=');
      if (equals < 0) throw new OptionValueError(`"${pair.trim()}" is not key=value`);
      const key = pair.slice(0, equals).trim();
      if (!propertyNamePattern.test(key)) {
        throw new OptionValueError(
          key === '' ? 'a property has no name before "="' : `"${key}" is not a librdkafka property name`,
        );
      }
      properties[key] = pair.slice(equals + 1).trim();
    }
    checkWithLibrdkafka(properties);
    return properties;
  },
  combine: (lower, higher) => ({ ...lower, ...higher }),
};

/**
 * Lets librdkafka check property names and values (creating a client object does not connect), so that a typo is
 * a launch error rather than a failure when the first client is created. Its messages name the property and
 * quote only values of numeric, boolean and enumerated properties, never a password.
 */
function checkWithLibrdkafka(properties: Readonly<Record<string, string>>): void {
  try {
    // A copy: the client deletes keys of the object it is given.
    new rdkafka.Producer({ ...properties });
  } catch (error) {
    throw new OptionValueError((error as Error).message.trim());
  }
}

/** Checked at start-up so that a wrong path is a clear launch error rather than a TLS failure later. */
const readableFile: ValueKind<string> = {
  placeholder: 'file',
  parse(text) {
    const problem = fileProblem(nonEmpty(text), () => {
      accessSync(text, constants.R_OK);
      return statSync(text).isDirectory() ? 'it is a directory' : undefined;
    });
    if (problem !== undefined) throw new OptionValueError(`cannot read "${text}": ${problem}`);
    return text;
  },
};

/** The file need not exist yet, but its directory must, and it must be writable. */
const writableFile: ValueKind<string> = {
  placeholder: 'file',
  parse(text) {
    const problem = fileProblem(nonEmpty(text), () => {
      const stats = statSync(text, { throwIfNoEntry: false });
      if (stats?.isDirectory()) return 'it is a directory';
      const directory = dirname(text);
      if (stats === undefined && statSync(directory, { throwIfNoEntry: false }) === undefined) {
        return `directory "${directory}" does not exist`;
      }
      accessSync(stats === undefined ? directory : text, constants.W_OK);
      return undefined;
    });
    if (problem !== undefined) throw new OptionValueError(`cannot write "${text}": ${problem}`);
    return text;
  },
};

/** What `check` says is wrong with a path, or the reason it threw. */
function fileProblem(path: string, check: () => string | undefined): string | undefined {
  try {
    return check();
  } catch (error) {
    return fileErrorReason(error);
  }
}

// --- The table -------------------------------------------------------------------------------------------

const uriHelp = 'Kafka URI (see below)';
/** For password options: the command line is readable by every user of the host. */
const onCommandLineHint = 'on the command line, ps shows it to every user: use the variable or -file option';
const passwordFileHelp = 'the password is its content, less one trailing line break';

/** Every option of the launcher, in help order. The keys are LauncherOptions-like names. */
export const launcherOptionTable = {
  configTopic: {
    long: 'config-topic',
    env: 'CONFIG_TOPIC',
    kind: kafkaUri('required'),
    required: true,
    help: `${uriHelp} with topic to listen on for commands (fc00, or legacy rf5k)`,
  },
  configTopicSaslPassword: {
    long: 'config-topic-sasl-password',
    env: 'CONFIG_TOPIC_SASL_PASSWORD',
    kind: password,
    help: `SASL password for --config-topic (${onCommandLineHint})`,
  },
  configTopicSaslPasswordFile: {
    long: 'config-topic-sasl-password-file',
    env: 'CONFIG_TOPIC_SASL_PASSWORD_FILE',
    kind: passwordFile,
    help: `file holding the SASL password for --config-topic (${passwordFileHelp})`,
  },
  statusTopic: {
    long: 'status-topic',
    env: 'STATUS_TOPIC',
    kind: kafkaUri('required'),
    required: true,
    help: `${uriHelp} with topic to publish status (x5f2) on`,
  },
  statusTopicSaslPassword: {
    long: 'status-topic-sasl-password',
    env: 'STATUS_TOPIC_SASL_PASSWORD',
    kind: password,
    help: `SASL password for --status-topic (${onCommandLineHint})`,
  },
  statusTopicSaslPasswordFile: {
    long: 'status-topic-sasl-password-file',
    env: 'STATUS_TOPIC_SASL_PASSWORD_FILE',
    kind: passwordFile,
    help: `file holding the SASL password for --status-topic (${passwordFileHelp})`,
  },
  outputBroker: {
    long: 'output-broker',
    env: 'OUTPUT_BROKER',
    kind: kafkaUri('dropped'),
    required: true,
    help: `${uriHelp} of the brokers to forward PV data to (a /topic part is ignored)`,
  },
  outputBrokerSaslPassword: {
    long: 'output-broker-sasl-password',
    env: 'OUTPUT_BROKER_SASL_PASSWORD',
    kind: password,
    help: `SASL password for --output-broker (${onCommandLineHint})`,
  },
  outputBrokerSaslPasswordFile: {
    long: 'output-broker-sasl-password-file',
    env: 'OUTPUT_BROKER_SASL_PASSWORD_FILE',
    kind: passwordFile,
    help: `file holding the SASL password for --output-broker (${passwordFileHelp})`,
  },
  storageTopic: {
    long: 'storage-topic',
    env: 'STORAGE_TOPIC',
    kind: kafkaUri('required'),
    help: `${uriHelp} with topic (one partition) where the stream list is saved and restored from`,
  },
  storageTopicSaslPassword: {
    long: 'storage-topic-sasl-password',
    env: 'STORAGE_TOPIC_SASL_PASSWORD',
    kind: password,
    help: `SASL password for --storage-topic (${onCommandLineHint})`,
  },
  storageTopicSaslPasswordFile: {
    long: 'storage-topic-sasl-password-file',
    env: 'STORAGE_TOPIC_SASL_PASSWORD_FILE',
    kind: passwordFile,
    help: `file holding the SASL password for --storage-topic (${passwordFileHelp})`,
  },
  skipRetrieval: {
    long: 'skip-retrieval',
    short: 's',
    env: 'SKIP_RETRIEVAL',
    kind: flag,
    help: 'do not restore the stream list from --storage-topic at start-up',
  },
  sslCaCertFile: {
    long: 'ssl-ca-cert-file',
    env: 'SSL_CA_CERT_FILE',
    kind: readableFile,
    help: 'CA certificate file (PEM) for SSL and SASL_SSL connections',
  },
  sslCertificateFile: {
    long: 'ssl-certificate-file',
    env: 'SSL_CERTIFICATE_FILE',
    kind: readableFile,
    help: 'client certificate file (PEM) for mutual TLS; needs --ssl-key-file',
  },
  sslKeyFile: {
    long: 'ssl-key-file',
    env: 'SSL_KEY_FILE',
    kind: readableFile,
    help: 'client private key file (PEM) for mutual TLS',
  },
  sslKeyPassword: {
    long: 'ssl-key-password',
    env: 'SSL_KEY_PASSWORD',
    kind: password,
    help: `password of --ssl-key-file (${onCommandLineHint})`,
  },
  sslKeyPasswordFile: {
    long: 'ssl-key-password-file',
    env: 'SSL_KEY_PASSWORD_FILE',
    kind: passwordFile,
    help: `file holding the password of --ssl-key-file (${passwordFileHelp})`,
  },
  kafkaConfig: {
    long: 'kafka-config',
    env: 'KAFKA_CONFIG',
    kind: kafkaProperties,
    help:
      'extra librdkafka property for every Kafka client, overriding the others; repeatable, and ' +
      'several can be given separated by ";" (also in KAFKA_CONFIG)',
  },
  graylogLoggerAddress: {
    long: 'graylog-logger-address',
    env: 'GRAYLOG_LOGGER_ADDRESS',
    kind: graylogAddress,
    help: 'also log to Graylog over GELF: [udp:|tcp:]host:port, UDP unless tcp: is given',
  },
  logFile: {
    long: 'log-file',
    env: 'LOG_FILE',
    kind: writableFile,
    help: 'log to this file instead of stderr',
  },
  verbosity: {
    long: 'verbosity',
    short: 'v',
    env: 'VERBOSITY',
    kind: verbosity,
    defaultText: 'Info',
    help: `log level: ${verbosities.join(', ')}`,
  },
  pvUpdatePeriod: {
    long: 'pv-update-period',
    env: 'PV_UPDATE_PERIOD',
    kind: positiveInteger('milliseconds'),
    help: 're-send the last value of streams flagged periodic at this period, even if unchanged',
  },
  serviceId: {
    long: 'service-id',
    env: 'SERVICE_ID',
    kind: textValue('id'),
    help: 'name of this forwarder in status messages and metrics (default: the process id)',
  },
  fakePvPeriod: {
    long: 'fake-pv-period',
    env: 'FAKE_PV_PERIOD',
    kind: positiveInteger('milliseconds'),
    defaultText: '1000',
    help: 'period of the random updates of "fake" protocol streams',
  },
  statusInterval: {
    long: 'status-interval',
    env: 'STATUS_INTERVAL',
    kind: positiveInteger('milliseconds'),
    defaultText: '4000',
    help: 'period of status messages on --status-topic',
  },
  grafanaCarbonAddress: {
    long: 'grafana-carbon-address',
    env: 'GRAFANA_CARBON_ADDRESS',
    kind: hostPort(2003),
    help: 'send metrics to this Graphite (Carbon) server',
  },
  statisticsUpdateInterval: {
    long: 'statistics-update-interval',
    env: 'STATISTICS_UPDATE_INTERVAL',
    kind: positiveInteger('seconds'),
    defaultText: '10',
    help: 'period of metric sends to --grafana-carbon-address',
  },
  httpAddress: {
    long: 'http-address',
    env: 'HTTP_ADDRESS',
    kind: listenAddress,
    help:
      'serve /metrics (Prometheus), /healthz, /status.json and the status page: a port alone listens on ' +
      `${loopback} only, host:port on that address (0.0.0.0:8080: every interface); off by default`,
  },
  metricsPerPv: {
    long: 'metrics-per-pv',
    env: 'METRICS_PER_PV',
    kind: flag,
    help: 'add metrics per stream (updates, last update, connected), labelled by PV: many series with many PVs',
  },
  groupId: {
    long: 'group-id',
    env: 'GROUP_ID',
    kind: textValue('name'),
    help:
      'join the forwarding group of this name: its members share the streams through Kafka (off by default; ' +
      'see docs/scaling.md)',
  },
  groupTopic: {
    long: 'group-topic',
    env: 'GROUP_TOPIC',
    kind: topicName,
    help: 'coordination topic of the group, on the --config-topic brokers (default: forwarder_group_<group id>)',
  },
  groupPartitions: {
    long: 'group-partitions',
    env: 'GROUP_PARTITIONS',
    kind: positiveInteger('count'),
    defaultText: '32',
    help: 'partitions of the coordination topic when it is created: the most members that get streams',
  },
  groupSessionTimeout: {
    long: 'group-session-timeout',
    env: 'GROUP_SESSION_TIMEOUT',
    kind: positiveInteger('milliseconds'),
    defaultText: '10000',
    help: 'how long a silent group member keeps its streams before the others take them over',
  },
  configFile: {
    long: 'config-file',
    short: 'c',
    env: 'CONFIG_FILE',
    kind: textValue('file'),
    help: 'read options from this file (name=value lines, see below)',
  },
} as const satisfies Record<string, OptionSpec<unknown>>;

type Table = typeof launcherOptionTable;
type OptionName = keyof Table;
type ValueOf<N extends OptionName> = ReturnType<Table[N]['kind']['parse']>;

/** Each password option, and its sibling naming a file that holds the password instead. */
const passwordFileOptions = {
  configTopicSaslPassword: 'configTopicSaslPasswordFile',
  statusTopicSaslPassword: 'statusTopicSaslPasswordFile',
  outputBrokerSaslPassword: 'outputBrokerSaslPasswordFile',
  storageTopicSaslPassword: 'storageTopicSaslPasswordFile',
  sslKeyPassword: 'sslKeyPasswordFile',
} as const satisfies Partial<Record<OptionName, OptionName>>;
type PasswordName = keyof typeof passwordFileOptions;
const passwordNames = Object.keys(passwordFileOptions) as PasswordName[];

const optionNames = Object.keys(launcherOptionTable) as OptionName[];
const specs: readonly (readonly [OptionName, OptionSpec<unknown>])[] = optionNames.map((name) => [
  name,
  launcherOptionTable[name],
]);
const specByLong: ReadonlyMap<string, readonly [OptionName, OptionSpec<unknown>]> = new Map(
  specs.map((entry) => [entry[1].long, entry]),
);

// --- Parsing ---------------------------------------------------------------------------------------------

/** Where a value came from, for messages. */
type Source =
  | { readonly from: 'command line' | 'default' }
  | { readonly from: 'environment'; readonly variable: string }
  | { readonly from: 'config file'; readonly path: string; readonly line: number };

interface Occurrence {
  readonly text: string;
  readonly source: Source;
}

function describeSource(source: Source): string {
  switch (source.from) {
    case 'environment':
      return ` (from environment variable ${source.variable})`;
    case 'config file':
      return ` (from ${source.path} line ${source.line})`;
    default:
      return '';
  }
}

/** Reads argv, env and the config file into LauncherOptions, or says what to print and how to exit. */
export function parseLauncherArguments(argv: readonly string[], env: NodeJS.ProcessEnv): ParseOutcome {
  try {
    const commandLine = readCommandLine(argv);
    if ('exit' in commandLine) return commandLine.exit;
    const environment = readEnvironment(env);
    const configFile = readConfigFileOccurrences(commandLine.occurrences, environment);
    const values = resolve([configFile, environment, commandLine.occurrences]);
    const options = assemble(values);
    const warning = commandLinePasswordWarning(commandLine.occurrences);
    return {
      kind: 'run',
      options: warning === undefined ? options : { ...options, startupWarnings: [warning] },
    };
  } catch (error) {
    if (error instanceof LaunchError) {
      return { kind: 'exit', code: 2, output: `${programName}: ${escapeControlCharacters(error.message)}\n` };
    }
    throw error;
  }
}

/** Keeps the message on one line whatever the quoted values contain: a newline shows as \n. */
function escapeControlCharacters(text: string): string {
  return text.replace(/\p{Cc}/gu, (character) => {
    const escaped = JSON.stringify(character).slice(1, -1);
    return escaped !== character ? escaped : `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

type Occurrences = ReadonlyMap<OptionName, readonly Occurrence[]>;

/** Names the passwords given on the command line, where ps shows them to every user of the host. */
function commandLinePasswordWarning(commandLine: Occurrences): string | undefined {
  const given = passwordNames.filter((name) => commandLine.has(name));
  if (given.length === 0) return undefined;
  const options = given.map((name) => `--${launcherOptionTable[name].long}`);
  const instead = given.map(
    (name) => `${launcherOptionTable[name].env} or --${launcherOptionTable[passwordFileOptions[name]].long}`,
  );
  return (
    `${options.join(', ')} given on the command line, where ps shows ${given.length === 1 ? 'it' : 'them'} ` +
    `to every user of this host: use ${instead.join(', ')} instead`
  );
}

function addOccurrence(map: Map<OptionName, Occurrence[]>, name: OptionName, occurrence: Occurrence): void {
  const list = map.get(name);
  if (list === undefined) map.set(name, [occurrence]);
  else list.push(occurrence);
}

function readCommandLine(argv: readonly string[]): { occurrences: Occurrences } | { exit: ParseOutcome } {
  let output = '';
  const program = new Command(programName)
    .description('Forwards EPICS PVs (Channel Access and pvAccess) to Kafka as ESS FlatBuffers messages.')
    .addHelpText('after', helpEpilogue())
    // Left-over arguments are reported below, without quoting what might be a password.
    .allowUnknownOption()
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => (output += text),
      writeErr: (text) => (output += text),
      outputError: () => undefined,
      getOutHelpWidth: () => helpWidth,
      getErrHelpWidth: () => helpWidth,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  const attributes = new Map<OptionName, string>();
  for (const [name, spec] of specs) {
    const option = new Option(commanderFlags(spec), helpLine(spec));
    // Every occurrence is kept: repeatable options use them all, the others the last one.
    if (spec.kind.placeholder !== undefined) {
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    }
    program.addOption(option);
    attributes.set(name, option.attributeName());
  }
  program.version(packageVersion, '--version', 'print the version and exit');
  program.helpOption('-h, --help', 'print this help and exit');

  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { exit: { kind: 'exit', code: 0, output } };
    throw new LaunchError(error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '));
  }

  const leftOver = program.args[0];
  if (leftOver !== undefined) {
    if (leftOver.startsWith('-') && leftOver !== '-') {
      // Only the option's name: "--x=secret" or "-psecret" must not end up in a log.
      const flagName = leftOver.startsWith('--')
        ? (leftOver.split('=')[0] ?? leftOver)
        : leftOver.slice(0, 2);
      // Commander leaves "--flag=value" over when the option takes no value.
      if (commandLineFlags.includes(flagName))
        throw new LaunchError(`${flagName} is a flag and takes no value`);
      throw new LaunchError(`unknown option ${flagName}${suggestion(flagName, commandLineFlags)}`);
    }
    throw new LaunchError(
      'unexpected argument (not shown, as it could be a password): every setting is an option, ' +
        'e.g. --config-topic <uri>',
    );
  }

  const occurrences = new Map<OptionName, Occurrence[]>();
  const parsed = program.opts<Record<string, string[] | true | undefined>>();
  for (const [name] of specs) {
    const value = parsed[attributes.get(name) ?? ''];
    if (value === undefined) continue;
    for (const text of value === true ? ['true'] : value) {
      addOccurrence(occurrences, name, { text, source: { from: 'command line' } });
    }
  }
  return { occurrences };
}

function commanderFlags(spec: OptionSpec<unknown>): string {
  const short = spec.short === undefined ? '' : `-${spec.short}, `;
  const value = spec.kind.placeholder === undefined ? '' : ` <${spec.kind.placeholder}>`;
  return `${short}--${spec.long}${value}`;
}

const commandLineFlags: readonly string[] = [
  ...specs.map(([, spec]) => `--${spec.long}`),
  '--version',
  '--help',
];

function helpLine(spec: OptionSpec<unknown>): string {
  const env = spec.env === undefined ? '' : ` [${spec.env}]`;
  const fallback = spec.defaultText === undefined ? '' : ` (default: ${spec.defaultText})`;
  return `${spec.help}${spec.required ? ' (required)' : ''}${fallback}${env}`;
}

function helpEpilogue(): string {
  return [
    '',
    'Every option can also be given by the environment variable in brackets, or in the config file as',
    'name=value (the long name without "--"; a flag as name=true). Precedence: command line, environment,',
    'config file, default. An empty environment variable counts as unset.',
    '',
    `Kafka URI: ${kafkaUriSyntax}`,
    '  PROTOCOL is PLAINTEXT (the default), SSL, SASL_PLAINTEXT or SASL_SSL; MECHANISM is PLAIN,',
    '  SCRAM-SHA-256 or SCRAM-SHA-512, and on its own implies SASL_PLAINTEXT. The port defaults to 9092.',
    '  Passwords never go in the URI: give them by the matching -sasl-password-file option or variable',
    '  (or -sasl-password, which ps shows). Example:',
    '  SASL_SSL+SCRAM-SHA-512\\forwarder@kafka1:9093,kafka2:9093/forwarder_commands',
  ].join('\n');
}

function readEnvironment(env: NodeJS.ProcessEnv): Occurrences {
  const occurrences = new Map<OptionName, Occurrence[]>();
  for (const [name, spec] of specs) {
    if (spec.env === undefined) continue;
    const text = env[spec.env];
    // Empty counts as unset: templated deployments (systemd, compose files) often define empty variables.
    if (text === undefined || text === '') continue;
    addOccurrence(occurrences, name, { text, source: { from: 'environment', variable: spec.env } });
  }
  return occurrences;
}

function readConfigFileOccurrences(commandLine: Occurrences, environment: Occurrences): Occurrences {
  const given = commandLine.get('configFile')?.at(-1) ?? environment.get('configFile')?.at(-1);
  if (given === undefined) return new Map();
  const path = parseOccurrence(launcherOptionTable.configFile, given);
  const failure = (message: string): LaunchError =>
    new LaunchError(`--config-file${describeSource(given.source)}: ${message}`);
  let entries: ConfigFileEntry[];
  try {
    entries = readConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigFileError) throw failure(error.message);
    throw error;
  }

  const occurrences = new Map<OptionName, Occurrence[]>();
  const firstLine = new Map<OptionName, number>();
  for (const { key, value, line } of entries) {
    const at = `${path} line ${line}`;
    const found = specByLong.get(key);
    if (found === undefined)
      throw failure(`${at}: unknown key "${key}"${suggestion(key, [...specByLong.keys()])}`);
    const [name, spec] = found;
    if (name === 'configFile') throw failure(`${at}: config-file cannot be set in a config file`);
    const earlier = firstLine.get(name);
    if (earlier !== undefined && spec.kind.combine === undefined) {
      throw failure(`${at}: ${key} is already set on line ${earlier}`);
    }
    firstLine.set(name, line);
    if (value === undefined && spec.kind.placeholder !== undefined)
      throw failure(`${at}: ${key} needs a value`);
    addOccurrence(occurrences, name, { text: value ?? 'true', source: { from: 'config file', path, line } });
  }
  return occurrences;
}

/** `layers` from lowest to highest precedence; the default is below them all. */
function resolve(layers: readonly Occurrences[]): ReadonlyMap<OptionName, unknown> {
  const values = new Map<OptionName, unknown>();
  for (const [name, spec] of specs) {
    const given = layers.flatMap((layer) => layer.get(name) ?? []);
    const defaults: Occurrence[] =
      spec.defaultText === undefined ? [] : [{ text: spec.defaultText, source: { from: 'default' } }];
    const { combine } = spec.kind;
    if (combine === undefined) {
      const chosen = given.at(-1) ?? defaults[0];
      if (chosen !== undefined) values.set(name, parseOccurrence(spec, chosen));
    } else if (given.length > 0) {
      values.set(name, given.map((occurrence) => parseOccurrence(spec, occurrence)).reduce(combine));
    }
  }
  return values;
}

function parseOccurrence<T>(spec: OptionSpec<T>, { text, source }: Occurrence): T {
  try {
    return spec.kind.parse(text);
  } catch (error) {
    if (error instanceof OptionValueError) {
      throw new LaunchError(`--${spec.long}${describeSource(source)}: ${error.message}`);
    }
    throw error;
  }
}

function assemble(values: ReadonlyMap<OptionName, unknown>): LauncherOptions {
  const optional = <N extends OptionName>(name: N): ValueOf<N> | undefined =>
    values.get(name) as ValueOf<N> | undefined;
  const required = <N extends OptionName>(name: N): ValueOf<N> => {
    const value = optional(name);
    if (value !== undefined) return value;
    const { long, env } = launcherOptionTable[name];
    throw new LaunchError(
      `--${long} is required (on the command line, as ${env}, or as ${long} in a config file)`,
    );
  };
  /** The password, given directly or by file, and the option that gave it. */
  const secret = (name: PasswordName): { value: string; option: string } | undefined => {
    const fileName = passwordFileOptions[name];
    const [direct, fromFile] = [optional(name), optional(fileName)];
    const [directOption, fileOption] = [
      `--${launcherOptionTable[name].long}`,
      `--${launcherOptionTable[fileName].long}`,
    ];
    if (direct !== undefined && fromFile !== undefined) {
      throw new LaunchError(`${directOption} and ${fileOption} are both set: give one of them`);
    }
    if (direct !== undefined) return { value: direct, option: directOption };
    return fromFile === undefined ? undefined : { value: fromFile, option: fileOption };
  };
  const endpoint = (uriName: OptionName, uri: KafkaUri, passwordName: PasswordName): KafkaEndpoint => {
    const password = secret(passwordName);
    return withoutUndefined({
      uri,
      saslPassword: password?.value,
      option: `--${launcherOptionTable[uriName].long}`,
      saslPasswordOption: password?.option,
    });
  };

  const storageUri = optional('storageTopic');
  const storagePassword = secret('storageTopicSaslPassword');
  if (storageUri === undefined && storagePassword !== undefined) {
    throw new LaunchError(`${storagePassword.option} is set but --storage-topic is not`);
  }
  const keyPassword = secret('sslKeyPassword');
  const tls = {
    caFile: optional('sslCaCertFile'),
    certificateFile: optional('sslCertificateFile'),
    keyFile: optional('sslKeyFile'),
    keyPassword: keyPassword?.value,
  };
  if ((tls.certificateFile === undefined) !== (tls.keyFile === undefined)) {
    throw new LaunchError('--ssl-certificate-file and --ssl-key-file go together: give both or neither');
  }
  if (keyPassword !== undefined && tls.keyFile === undefined) {
    throw new LaunchError(`${keyPassword.option} is set but --ssl-key-file is not`);
  }

  const kafkaProperties = optional('kafkaConfig') ?? {};
  const configTopic = endpoint('configTopic', required('configTopic'), 'configTopicSaslPassword');
  const statusTopic = endpoint('statusTopic', required('statusTopic'), 'statusTopicSaslPassword');
  const outputBroker = endpoint('outputBroker', required('outputBroker'), 'outputBrokerSaslPassword');
  const storageTopic =
    storageUri === undefined ? undefined : endpoint('storageTopic', storageUri, 'storageTopicSaslPassword');
  const tlsOptions = withoutUndefined(tls);
  for (const each of [configTopic, statusTopic, outputBroker, storageTopic]) {
    if (each === undefined) continue;
    try {
      kafkaClientConfig(each, tlsOptions, kafkaProperties);
    } catch (error) {
      if (error instanceof KafkaClientConfigError) throw new LaunchError(error.message);
      throw error;
    }
  }

  return withoutUndefined({
    configTopic,
    statusTopic,
    group: groupSettings(optional, required),
    outputBroker,
    storageTopic,
    skipRetrieval: optional('skipRetrieval') ?? false,
    tls: tlsOptions,
    kafkaProperties,
    graylogLoggerAddress: optional('graylogLoggerAddress'),
    logFile: optional('logFile'),
    verbosity: required('verbosity'),
    pvUpdatePeriodMs: optional('pvUpdatePeriod'),
    serviceId: optional('serviceId') ?? String(process.pid),
    fakePvPeriodMs: required('fakePvPeriod'),
    statusIntervalMs: required('statusInterval'),
    grafanaCarbonAddress: optional('grafanaCarbonAddress'),
    statisticsUpdateIntervalS: required('statisticsUpdateInterval'),
    httpAddress: optional('httpAddress'),
    metricsPerPv: optional('metricsPerPv'),
  });
}

/** The forwarding group's settings, with --group-id. */
function groupSettings(
  option: <N extends OptionName>(name: N) => ValueOf<N> | undefined,
  required: <N extends OptionName>(name: N) => ValueOf<N>,
): GroupSettings | undefined {
  const groupId = option('groupId');
  if (groupId === undefined) {
    if (option('groupTopic') !== undefined)
      throw new LaunchError('--group-topic is set but --group-id is not');
    return undefined;
  }
  const topic = option('groupTopic') ?? `forwarder_group_${groupId}`;
  try {
    checkTopic(topic);
  } catch (error) {
    if (!(error instanceof KafkaUriError)) throw error;
    throw new LaunchError(
      `--group-id "${groupId}" makes no valid coordination topic name: give --group-topic`,
    );
  }
  return {
    groupId,
    topic,
    partitions: required('groupPartitions'),
    sessionTimeoutMs: required('groupSessionTimeout'),
  };
}

/** T with the properties that may be undefined made optional instead. */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** The object without its undefined properties, so that optional fields are absent rather than undefined. */
function withoutUndefined<T extends object>(object: T): Defined<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Defined<T>;
}

// --- Suggestions for misspelt names ----------------------------------------------------------------------

/** ` (did you mean --x?)` for the closest candidate, if it is close enough to be a likely typo. */
function suggestion(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const closeEnough = bestDistance <= Math.max(2, Math.floor(word.length / 4));
  return best !== undefined && closeEnough ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
