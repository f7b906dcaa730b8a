/**
 * The launcher's options: one table of name, short name, environment variable, kind of value (src/option-values/),
 * default and help, in help order. The command line, the environment and the config file are all read from it.
 */
import { kafkaProperties, kafkaUri, topicName } from '../../option-values/kafka.js';
import { passwordFile, readableFile, writableDirectory, writableFile } from '../../option-values/files.js';
import {
  byteSize,
  flag,
  graylogAddress,
  hostPort,
  listenAddress,
  loopback,
  password,
  positiveInteger,
  textValue,
  type ValueKind,
  verbosities,
  verbosity,
} from '../../option-values/kinds.js';

export interface OptionSpec<T> {
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
  spoolDir: {
    long: 'spool-dir',
    env: 'SPOOL_DIR',
    kind: writableDirectory,
    help:
      'keep the messages for Kafka in a spool in this directory until Kafka has them: nothing is lost while Kafka ' +
      'is away, across a stop or a crash (see docs/reliability.md); off by default',
  },
  spoolMaxBytes: {
    long: 'spool-max-bytes',
    env: 'SPOOL_MAX_BYTES',
    kind: byteSize,
    help: 'most bytes the spool may hold (K, M, G, T suffixes); then the newest messages are dropped (default: 10% of the file system)',
  },
  spoolSync: {
    long: 'spool-sync',
    env: 'SPOOL_SYNC',
    kind: flag,
    help: 'fsync the spool after every write: also survives a power cut, at the cost of throughput',
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
export type OptionName = keyof Table;
/** What an option's kind parses its text into. */
export type ValueOf<N extends OptionName> = ReturnType<Table[N]['kind']['parse']>;

/** Each password option, and its sibling naming a file that holds the password instead. */
export const passwordFileOptions = {
  configTopicSaslPassword: 'configTopicSaslPasswordFile',
  statusTopicSaslPassword: 'statusTopicSaslPasswordFile',
  outputBrokerSaslPassword: 'outputBrokerSaslPasswordFile',
  storageTopicSaslPassword: 'storageTopicSaslPasswordFile',
  sslKeyPassword: 'sslKeyPasswordFile',
} as const satisfies Partial<Record<OptionName, OptionName>>;
export type PasswordName = keyof typeof passwordFileOptions;
export const passwordNames = Object.keys(passwordFileOptions) as PasswordName[];

const optionNames = Object.keys(launcherOptionTable) as OptionName[];
/** The table as a list, in help order. */
export const specs: readonly (readonly [OptionName, OptionSpec<unknown>])[] = optionNames.map((name) => [
  name,
  launcherOptionTable[name],
]);
/** By long name, which is also the config file's key. */
export const specByLong: ReadonlyMap<string, readonly [OptionName, OptionSpec<unknown>]> = new Map(
  specs.map((entry) => [entry[1].long, entry]),
);
