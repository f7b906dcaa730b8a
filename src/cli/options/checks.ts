/**
 * Checks across options, and LauncherOptions built from the resolved values: the required options present, each
 * password given once (directly or by file) and only where it is used, the TLS files that go together, a Kafka
 * client configuration for every endpoint, and the forwarding group's settings.
 */
import type { GroupSettings } from '../../group/membership.js';
import { KafkaClientConfigError, kafkaClientConfig } from '../../kafka/client-config.js';
import type { KafkaEndpoint, KafkaUri } from '../../kafka/endpoint.js';
import { checkTopic, KafkaUriError } from '../../kafka/uri.js';
import type { LauncherOptions, SpoolSettings } from '../launcher-options.js';
import { LaunchError } from './launch-error.js';
import type { Occurrences } from './occurrences.js';
import {
  launcherOptionTable,
  type OptionName,
  passwordFileOptions,
  type PasswordName,
  passwordNames,
  type ValueOf,
} from './table.js';

/** LauncherOptions from the resolved values; throws LaunchError at the first option missing or at odds. */
export function assemble(values: ReadonlyMap<OptionName, unknown>): LauncherOptions {
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
    spool: spoolSettings(optional, kafkaProperties),
  });
}

/** The disk spool's settings, with --spool-dir. */
function spoolSettings(
  option: <N extends OptionName>(name: N) => ValueOf<N> | undefined,
  kafkaProperties: Readonly<Record<string, string>>,
): SpoolSettings | undefined {
  const dir = option('spoolDir');
  if (dir !== undefined && kafkaProperties['message.timeout.ms'] !== undefined) {
    throw new LaunchError(
      '--kafka-config message.timeout.ms cannot be used with --spool-dir: with a spool, messages wait until Kafka ' +
        'has them',
    );
  }
  if (dir === undefined) {
    for (const name of ['spoolMaxBytes', 'spoolSync'] as const) {
      if (option(name) !== undefined) {
        throw new LaunchError(`--${launcherOptionTable[name].long} is set but --spool-dir is not`);
      }
    }
    return undefined;
  }
  const maxBytes = option('spoolMaxBytes');
  return { dir, sync: option('spoolSync') ?? false, ...(maxBytes === undefined ? {} : { maxBytes }) };
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

/** Names the passwords given on the command line, where ps shows them to every user of the host. */
export function commandLinePasswordWarning(commandLine: Occurrences): string | undefined {
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
