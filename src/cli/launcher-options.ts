/**
 * What the launcher's command line, environment and config file resolve to. Parsing lives in options.ts;
 * everything after start-up works from this.
 */
import type { GroupSettings } from '../group/membership.js';
import type { GraylogAddress } from '../observability/gelf-transport.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** A parsed `[PROTOCOL+][MECHANISM\][user@]host:port[,host:port...][/topic]`. */
export interface KafkaUri {
  /** Comma-separated host:port list, as librdkafka's bootstrap.servers takes it. */
  readonly brokers: string;
  readonly topic?: string;
  readonly securityProtocol: SecurityProtocol;
  readonly saslMechanism?: SaslMechanism;
  readonly username?: string;
}

/** TLS settings shared by every client that uses TLS. */
export interface TlsOptions {
  readonly caFile?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  readonly certificateFile?: string;
  readonly keyFile?: string;
  readonly keyPassword?: string;
}

/** A Kafka endpoint: where, and with which credentials. */
export interface KafkaEndpoint {
  readonly uri: KafkaUri;
  readonly saslPassword?: string;
  /** The option the password was given by (`--config-topic-sasl-password-file`, ...), for messages. */
  readonly saslPasswordOption?: string;
  /** The option it came from (`--config-topic`, ...), so that messages about it can name the option. */
  readonly option?: string;
}

export type Verbosity = 'Trace' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Critical';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface LauncherOptions {
  /** Has a topic (checked while parsing). */
  readonly configTopic: KafkaEndpoint;
  /** Has a topic. */
  readonly statusTopic: KafkaEndpoint;
  /** Has no topic: a `/topic` part is accepted and dropped, as the reference ignores it. */
  readonly outputBroker: KafkaEndpoint;
  /** Has a topic when given. */
  readonly storageTopic?: KafkaEndpoint;
  readonly skipRetrieval: boolean;
  readonly tls: TlsOptions;
  /** Extra librdkafka properties for every client (`--kafka-config key=value`, repeatable). */
  readonly kafkaProperties: Readonly<Record<string, string>>;
  /** GELF over UDP, or TCP when `protocol` says so. */
  readonly graylogLoggerAddress?: GraylogAddress;
  readonly logFile?: string;
  readonly verbosity: Verbosity;
  /** Period of re-sends for streams flagged periodic; undefined: nothing is re-sent. */
  readonly pvUpdatePeriodMs?: number;
  /** Default: the process id. */
  readonly serviceId: string;
  readonly fakePvPeriodMs: number;
  readonly statusIntervalMs: number;
  /** Graphite/Carbon export of metrics. */
  readonly grafanaCarbonAddress?: HostPort;
  readonly statisticsUpdateIntervalS: number;
  /** HTTP listener for /metrics, /healthz, /status.json and the status page; off when undefined. */
  readonly httpAddress?: HostPort;
  /** Per-stream metric series, labelled by PV; off when absent (thousands of PVs make thousands of series). */
  readonly metricsPerPv?: boolean;
  /** Set by --group-id: this forwarder shares the streams with the other members of a forwarding group. */
  readonly group?: GroupSettings;
  /** Logged once at start: settings that work but should change (a password on the command line). */
  readonly startupWarnings?: readonly string[];
}
