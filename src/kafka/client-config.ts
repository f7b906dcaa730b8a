/**
 * librdkafka properties for one Kafka endpoint: where (bootstrap.servers), how (security.protocol, SASL, TLS),
 * then the user's extra properties, which override everything else.
 */
import type { KafkaEndpoint, TlsOptions } from './endpoint.js';

export class KafkaClientConfigError extends Error {
  override readonly name = 'KafkaClientConfigError';
}

/** Throws KafkaClientConfigError for a SASL endpoint without credentials or a password where SASL is off. */
export function kafkaClientConfig(
  endpoint: KafkaEndpoint,
  tls: TlsOptions,
  extra: Readonly<Record<string, string>>,
): Record<string, string> {
  const { uri, saslPassword } = endpoint;
  const config: Record<string, string> = {
    'bootstrap.servers': uri.brokers,
    'security.protocol': uri.securityProtocol.toLowerCase(),
  };
  const name = endpoint.option ?? `Kafka endpoint ${uri.brokers}`;
  const passwordOption =
    endpoint.saslPasswordOption ??
    (endpoint.option === undefined ? 'its SASL password' : `${endpoint.option}-sasl-password`);

  if (uri.securityProtocol === 'SASL_PLAINTEXT' || uri.securityProtocol === 'SASL_SSL') {
    if (uri.saslMechanism === undefined || !uri.username) {
      throw new KafkaClientConfigError(
        `${name} uses ${uri.securityProtocol} but has no SASL mechanism or user`,
      );
    }
    if (saslPassword === undefined || saslPassword === '') {
      throw new KafkaClientConfigError(
        `${name} uses ${uri.securityProtocol} (${uri.saslMechanism}) but has no password: set ${passwordOption}`,
      );
    }
    config['sasl.mechanisms'] = uri.saslMechanism;
    config['sasl.username'] = uri.username;
    config['sasl.password'] = saslPassword;
  } else if (saslPassword !== undefined) {
    throw new KafkaClientConfigError(
      `${passwordOption} is set but ${name} uses ${uri.securityProtocol}, not SASL; ` +
        `the password would be ignored`,
    );
  }

  if (uri.securityProtocol === 'SSL' || uri.securityProtocol === 'SASL_SSL') {
    setIfGiven(config, 'ssl.ca.location', tls.caFile);
    setIfGiven(config, 'ssl.certificate.location', tls.certificateFile);
    setIfGiven(config, 'ssl.key.location', tls.keyFile);
    setIfGiven(config, 'ssl.key.password', tls.keyPassword);
  }

  return Object.assign(config, extra);
}

function setIfGiven(config: Record<string, string>, key: string, value: string | undefined): void {
  if (value !== undefined) config[key] = value;
}
