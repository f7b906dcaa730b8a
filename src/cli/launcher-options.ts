/**
 * What the launcher's command line, environment and config file resolve to. Parsing lives in options/;
 * everything after start-up works from this.
 */
import type { GroupSettings } from '../group/membership.js';
import type { KafkaEndpoint, TlsOptions } from '../kafka/endpoint.js';
import type { GraylogAddress } from '../logging/gelf-transport.js';
import type { Verbosity } from '../logging/logging.js';
import type { HostPort } from '../util/host-port.js';

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
  /** Set by --spool-dir: messages for Kafka go through a disk spool. */
  readonly spool?: SpoolSettings;
  /** Set by --group-id: this forwarder shares the streams with the other members of a forwarding group. */
  readonly group?: GroupSettings;
  /** Logged once at start: settings that work but should change (a password on the command line). */
  readonly startupWarnings?: readonly string[];
}

/** The disk spool (--spool-dir, --spool-max-bytes, --spool-sync). */
export interface SpoolSettings {
  readonly dir: string;
  /** Undefined: a share of the file system, worked out at start. */
  readonly maxBytes?: number;
  readonly sync: boolean;
}
