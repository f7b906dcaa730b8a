/**
 * forwarder-ctl's Kafka options: one broker URI (the launcher's grammar, with the topic a command works on) and
 * the launcher's SASL and TLS settings, resolved into librdkafka properties. Values are checked with the
 * launcher's own rules (src/option-values/), so both programs accept and refuse the same things.
 */
import { passwordFile, readableFile } from '../option-values/files.js';
import { kafkaProperties } from '../option-values/kafka.js';
import { password } from '../option-values/kinds.js';
import { KafkaUriError, parseKafkaUri } from '../kafka/uri.js';
import { forwarderTopicProblem, topicNameProblem } from '../streams/topic-name.js';
import type { KafkaUri, TlsOptions } from '../kafka/endpoint.js';
import { KafkaClientConfigError, kafkaClientConfig } from '../kafka/client-config.js';
import { UsageError } from './errors.js';
import { positiveSeconds } from './values.js';

export const BROKER_ENV = 'FORWARDER_CTL_BROKER';
export const SASL_PASSWORD_ENV = 'FORWARDER_CTL_SASL_PASSWORD';
export const SASL_PASSWORD_FILE_ENV = 'FORWARDER_CTL_SASL_PASSWORD_FILE';
export const DEFAULT_TIMEOUT_S = 10;

/** The global options as commander hands them over. */
export interface GlobalOptions {
  readonly broker?: string;
  readonly saslPassword?: string;
  readonly saslPasswordFile?: string;
  readonly sslCaCertFile?: string;
  readonly sslCertificateFile?: string;
  readonly sslKeyFile?: string;
  readonly sslKeyPassword?: string;
  readonly sslKeyPasswordFile?: string;
  readonly kafkaConfig?: readonly string[];
  readonly timeout?: string;
}

export interface KafkaAccess {
  readonly uri: KafkaUri;
  /** librdkafka properties for every client. */
  readonly config: Readonly<Record<string, string>>;
  /** Bound on connecting, on each metadata query and on delivery. */
  readonly timeoutMs: number;
}

/** Resolves the global options (and FORWARDER_CTL_* variables); throws UsageError naming the option at fault. */
export function kafkaAccess(options: GlobalOptions, env: NodeJS.ProcessEnv): KafkaAccess {
  const brokerText = options.broker ?? nonEmpty(env[BROKER_ENV]);
  if (brokerText === undefined) {
    throw new UsageError(`no broker: give --broker host:port[/topic] (or set ${BROKER_ENV})`);
  }
  let uri: KafkaUri;
  try {
    uri = parseKafkaUri(brokerText);
  } catch (error) {
    if (error instanceof KafkaUriError) throw new UsageError(`--broker: ${error.message}`);
    throw error;
  }
  const saslPassword = secret(
    ['--sasl-password', options.saslPassword ?? nonEmpty(env[SASL_PASSWORD_ENV])],
    ['--sasl-password-file', options.saslPasswordFile ?? nonEmpty(env[SASL_PASSWORD_FILE_ENV])],
  );
  const sasl = uri.securityProtocol === 'SASL_PLAINTEXT' || uri.securityProtocol === 'SASL_SSL';
  if (sasl && saslPassword === undefined) {
    throw new UsageError(
      `--broker uses ${uri.securityProtocol} (${uri.saslMechanism}) but no password was given: ` +
        `set --sasl-password or ${SASL_PASSWORD_ENV}`,
    );
  }
  if (!sasl && saslPassword !== undefined) {
    throw new UsageError(`a SASL password is set but --broker uses ${uri.securityProtocol}, not SASL`);
  }

  const tls = withoutUndefined({
    caFile: checked('--ssl-ca-cert-file', readableFile, options.sslCaCertFile),
    certificateFile: checked('--ssl-certificate-file', readableFile, options.sslCertificateFile),
    keyFile: checked('--ssl-key-file', readableFile, options.sslKeyFile),
    keyPassword: secret(
      ['--ssl-key-password', options.sslKeyPassword],
      ['--ssl-key-password-file', options.sslKeyPasswordFile],
    ),
  });
  if ((tls.certificateFile === undefined) !== (tls.keyFile === undefined)) {
    throw new UsageError('--ssl-certificate-file and --ssl-key-file go together: give both or neither');
  }
  // Later properties override earlier ones, as in the launcher.
  const extra = Object.assign(
    {},
    ...(options.kafkaConfig ?? []).map((text) => checked('--kafka-config', kafkaProperties, text)),
  ) as Record<string, string>;

  let config: Record<string, string>;
  try {
    config = kafkaClientConfig(
      { uri, option: '--broker', ...(saslPassword === undefined ? {} : { saslPassword }) },
      tls,
      extra,
    );
  } catch (error) {
    if (error instanceof KafkaClientConfigError) throw new UsageError(error.message);
    throw error;
  }
  return {
    uri,
    config,
    timeoutMs:
      (options.timeout === undefined
        ? DEFAULT_TIMEOUT_S
        : positiveSeconds('--timeout', options.timeout, 3600)) * 1000,
  };
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === '' ? undefined : text;
}

function checked<T>(
  option: string,
  kind: { parse(text: string): T },
  text: string | undefined,
): T | undefined {
  if (text === undefined) return undefined;
  try {
    return kind.parse(text);
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
}

function withoutUndefined(tls: Record<keyof TlsOptions, string | undefined>): TlsOptions {
  return Object.fromEntries(Object.entries(tls).filter(([, value]) => value !== undefined)) as TlsOptions;
}

/**
 * The topic a command works on: the TOPIC argument of a command that takes one (`positional` given), else the
 * --broker URI's topic. Checked as Kafka checks names; a forwarder's topics are never Kafka's internal ones, but
 * any topic can be read (`internal: 'readable'`).
 */
export function topicOf(
  access: KafkaAccess,
  what: string,
  positional?: { argument: string | undefined },
  internal: 'refused' | 'readable' = 'refused',
): string {
  const topic = positional?.argument ?? access.uri.topic;
  if (topic === undefined) {
    const orArgument = positional === undefined ? '' : ' or as the TOPIC argument';
    throw new UsageError(`no ${what}: give it as host:port/TOPIC in --broker${orArgument}`);
  }
  const problem = internal === 'refused' ? forwarderTopicProblem(topic) : topicNameProblem(topic);
  if (problem !== undefined) throw new UsageError(`${what} "${topic}" ${problem}`);
  return topic;
}

/** A password given directly or by file (never both); the file's content less one trailing line break. */
function secret(
  [directOption, direct]: readonly [string, string | undefined],
  [fileOption, file]: readonly [string, string | undefined],
): string | undefined {
  if (direct !== undefined && file !== undefined) {
    throw new UsageError(`${directOption} and ${fileOption} are both set: give one of them`);
  }
  if (file !== undefined) return checked(fileOption, passwordFile, file);
  return checked(directOption, password, direct);
}
