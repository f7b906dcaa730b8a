/**
 * A mistake in the settings found only once the daemon uses them: a Kafka client librdkafka cannot create, an
 * HTTP address this host cannot listen on, a storage topic that holds no stored stream sets. Its message says
 * what is wrong in one line; the launcher logs that line, without a stack trace, and exits with code 2, so that
 * systemd does not restart the forwarder into the same mistake.
 */
export class SettingsError extends Error {
  override readonly name: string = 'SettingsError';
}
