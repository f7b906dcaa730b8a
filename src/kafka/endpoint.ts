/** Where a Kafka client connects and how it authenticates, as the Kafka URI options describe it. */
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
