/**
 * The running forwarder: Kafka clients, EPICS clients, the stream pipelines, status and storage, wired
 * together. Start-up order follows the reference: producers, then the stored stream set, then the config topic.
 */
import { hostname } from 'node:os';
import type { EpicsProtocol } from '../config/stream.js';
import { CaClient } from '../epics/ca/client.js';
import { FakeProvider } from '../epics/fake/provider.js';
import { PvaClient } from '../epics/pva/client.js';
import type { PvProvider } from '../epics/update.js';
import { Forwarder } from '../forwarding/forwarder.js';
import { kafkaClientConfig } from '../kafka/client-config.js';
import { ConfigConsumer } from '../kafka/config-consumer.js';
import { type ConnectRetry, DEFAULT_CONNECT_RETRY } from '../kafka/connect.js';
import { KafkaProducer } from '../kafka/producer.js';
import type { Logger } from '../observability/logger.js';
import { StatusReporter } from '../status/reporter.js';
import { StreamStore } from '../storage/store.js';
import type { KafkaEndpoint, LauncherOptions } from './launcher-options.js';
import { packageVersion } from './version.js';

/** How long shutdown waits for Kafka to acknowledge what was produced before the signal. */
export const SHUTDOWN_FLUSH_MS = 15_000;

export interface Daemon {
  readonly forwarder: Forwarder;
  readonly producer: KafkaProducer;
  readonly configConsumer: ConfigConsumer;
  /** Stops everything in order; resolves with whether every produced message was acknowledged. */
  stop(): Promise<boolean>;
}

export interface DaemonEnvironment {
  readonly logger: Logger;
  /** EPICS_* settings for the CA and PVA clients. */
  readonly env: NodeJS.ProcessEnv;
  /** True once shutdown was asked for: connection retries give up. */
  readonly stopping: () => boolean;
}

function topicOf(endpoint: KafkaEndpoint): string {
  // The option parser guarantees a topic for topic options; this guards against a wiring mistake.
  if (!endpoint.uri.topic) throw new Error(`no topic in Kafka URI for ${endpoint.uri.brokers}`);
  return endpoint.uri.topic;
}

export async function startDaemon(options: LauncherOptions, environment: DaemonEnvironment): Promise<Daemon> {
  const { logger } = environment;
  const retry: ConnectRetry = { ...DEFAULT_CONNECT_RETRY, cancelled: environment.stopping };
  const clientConfig = (endpoint: KafkaEndpoint): Record<string, string> =>
    kafkaClientConfig(endpoint, options.tls, options.kafkaProperties);

  const producer = await KafkaProducer.create(
    clientConfig(options.outputBroker),
    'output producer',
    logger,
    retry,
  );
  const statusProducer = await KafkaProducer.create(
    clientConfig(options.statusTopic),
    'status producer',
    logger,
    retry,
  );
  const storageProducer = options.storageTopic
    ? await KafkaProducer.create(clientConfig(options.storageTopic), 'storage producer', logger, retry)
    : undefined;
  const store =
    options.storageTopic && storageProducer
      ? new StreamStore(storageProducer, topicOf(options.storageTopic))
      : undefined;

  const forwarder = new Forwarder({
    sink: producer,
    logger,
    providerFactory: (protocol: EpicsProtocol): PvProvider => {
      switch (protocol) {
        case 'ca':
          return new CaClient({ env: environment.env, logger });
        case 'pva':
          return new PvaClient({ env: environment.env, logger });
        case 'fake':
          return new FakeProvider({ periodMs: options.fakePvPeriodMs });
      }
    },
    ...(options.pvUpdatePeriodMs === undefined ? {} : { pvUpdatePeriodMs: options.pvUpdatePeriodMs }),
  });
  const status = new StatusReporter(
    statusProducer,
    topicOf(options.statusTopic),
    {
      softwareName: 'Forwarder',
      softwareVersion: packageVersion,
      serviceId: options.serviceId,
      hostName: hostname(),
      processId: process.pid,
    },
    options.statusIntervalMs,
    () => forwarder.streamStatuses(),
  );
  const afterValidCommand = (): void => {
    status.report();
    store?.save(forwarder.streams());
  };

  if (options.storageTopic && !options.skipRetrieval) {
    const storageTopic = topicOf(options.storageTopic);
    const stored = await StreamStore.retrieve(
      clientConfig(options.storageTopic),
      storageTopic,
      logger,
      retry,
    );
    if (stored === undefined) {
      logger.warn(`No stored stream set on storage topic ${storageTopic}; starting with no streams`);
    } else if (forwarder.applyMessage(stored, 'stored stream set')) {
      logger.info(`Restored ${forwarder.streams().length} streams from storage topic ${storageTopic}`);
      afterValidCommand();
    }
  }

  const configTopic = topicOf(options.configTopic);
  const configConsumer = await ConfigConsumer.create(
    clientConfig(options.configTopic),
    configTopic,
    logger,
    (payload) => {
      logger.info(`Received config message (${payload.length} bytes)`);
      if (forwarder.applyMessage(payload)) afterValidCommand();
    },
    retry,
  );
  logger.info(`Listening for commands on config topic ${configTopic}`);
  status.start();
  status.report();
  logger.info(`Forwarder ${packageVersion} started, service id ${options.serviceId}`);

  return {
    forwarder,
    producer,
    configConsumer,
    async stop(): Promise<boolean> {
      await configConsumer.close();
      status.stop();
      await forwarder.stop();
      const flushed = await producer.close(SHUTDOWN_FLUSH_MS);
      await Promise.all([statusProducer.close(2_000), storageProducer?.close(5_000)]);
      if (!flushed)
        logger.error(
          `Kafka did not acknowledge every message within ${SHUTDOWN_FLUSH_MS / 1000} s of shutdown`,
        );
      // For checking the topics against (the shutdown test does): every queued message should be there.
      const { queued, delivered, deliveryErrors, queueFull, produceErrors } = producer.counters;
      logger.info(
        `Output producer totals: ${queued} messages queued, ${delivered} delivered, ` +
          `${deliveryErrors} failed delivery, ${queueFull + produceErrors} refused before queueing`,
      );
      return flushed;
    },
  };
}
