/**
 * The running forwarder: Kafka clients, EPICS clients, the stream pipelines, status and storage, wired
 * together, and observability (metrics, health, HTTP, Graphite), which is wired here and nowhere else.
 * Start-up order follows the reference: producers, then the stored stream set, then the config topic.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EpicsProtocol } from '../model/protocol.js';
import { CaClient } from '../epics/ca/client.js';
import { FakeProvider } from '../epics/fake/provider.js';
import { PvaClient } from '../epics/pva/client.js';
import type { PvProvider } from '../model/update.js';
import { Forwarder } from '../forwarding/forwarder.js';
import { NeverConnectedLog } from '../forwarding/never-connected-log.js';
import { kafkaClientConfig } from '../kafka/client-config.js';
import { ConfigConsumer } from '../kafka/config-consumer.js';
import { type ConnectRetry, DEFAULT_CONNECT_RETRY } from '../kafka/connect.js';
import { KafkaProducer } from '../kafka/producer.js';
import { GroupMembership, type GroupSettings } from '../group/membership.js';
import { HandoverSink } from '../group/handover-sink.js';
import type { Logger } from '../logging/logger.js';
import { Observability } from '../observability/observability.js';
import { spoolStatus } from '../observability/status-document.js';
import { StatusReporter } from '../status/reporter.js';
import { StreamStore } from '../storage/store.js';
import type { KafkaEndpoint } from '../kafka/endpoint.js';
import { Spool } from '../spool/spool.js';
import { SpoolingProducer, type TailReader } from '../spool/spooling-producer.js';
import { readPartitionTails } from '../kafka/partition-tail.js';
import type { LauncherOptions, SpoolSettings } from './launcher-options.js';
import { packageVersion } from '../util/package-version.js';

/** How long shutdown waits for Kafka to acknowledge what was produced before the signal. */
export const SHUTDOWN_FLUSH_MS = 15_000;

/**
 * The queue each PVA monitor asks the server for (record._options.queueSize; pvxs keeps 4 by default). When it
 * fills, the server squashes the newest updates into one: a record processed several times in one scan, or a
 * moment of TCP back-pressure, would lose values. The server holds the queue only while updates wait.
 */
export const PVA_SERVER_QUEUE_SIZE = 16;

/** Settings of the output producer under a spool: a message waits in librdkafka until Kafka takes it. */
const SPOOL_PRODUCER_DEFAULTS = { 'message.timeout.ms': '0' } as const;

/** Opens the spool of --spool-dir in front of the output producer, and says what it found. */
function openSpool(
  settings: SpoolSettings,
  producer: KafkaProducer,
  logger: Logger,
  readTails: TailReader,
): SpoolingProducer {
  const spool = Spool.open(settings);
  const { recovery, waiting, bytes, maxBytes } = { ...spool.figures, recovery: spool.recovery };
  logger.info(
    `Spool in ${settings.dir}: ${waiting} messages from before (${bytes} bytes), at most ${maxBytes} bytes`,
  );
  if (recovery.tornBytes > 0) {
    logger.warn(
      `Spool: cut ${recovery.tornBytes} bytes of an unfinished write off the end (a crash or power cut)`,
    );
  }
  if (recovery.corruptRecords > 0) {
    logger.error(
      `Spool: skipped ${recovery.corruptRecords} corrupted records (${recovery.corruptBytes} bytes); the rest is replayed`,
    );
  }
  return new SpoolingProducer(producer, spool, logger, readTails);
}

export interface Daemon {
  readonly forwarder: Forwarder;
  readonly producer: KafkaProducer;
  readonly configConsumer: ConfigConsumer;
  /** Present with --group-id. */
  readonly membership: GroupMembership | undefined;
  readonly observability: Observability;
  /**
   * Resolves with the reason when the forwarder cannot go on: a Kafka producer failed for good (librdkafka's
   * fatal error). The launcher then stops it and exits 1, so that the service manager starts it again with new
   * producers.
   */
  readonly failed: Promise<string>;
  /** Stops everything in order; resolves with whether every produced message was acknowledged. */
  stop(): Promise<boolean>;
}

export interface DaemonEnvironment {
  readonly logger: Logger;
  /** EPICS_* settings for the CA and PVA clients. */
  readonly env: NodeJS.ProcessEnv;
  /** True once shutdown was asked for: connection retries give up. */
  readonly stopping: () => boolean;
  /** Aborts when shutdown is asked for: a Kafka connection attempt or wait in progress is abandoned at once. */
  readonly shutdown: AbortSignal;
}

function topicOf(endpoint: KafkaEndpoint): string {
  // The option parser guarantees a topic for topic options; this guards against a wiring mistake.
  if (!endpoint.uri.topic) throw new Error(`no topic in Kafka URI for ${endpoint.uri.brokers}`);
  return endpoint.uri.topic;
}

/** Starts the HTTP listener and Graphite export first, so that start-up can be watched, then the rest. */
export async function startDaemon(options: LauncherOptions, environment: DaemonEnvironment): Promise<Daemon> {
  for (const warning of options.startupWarnings ?? []) environment.logger.warn(warning);
  const observability = await Observability.start({
    ...(options.httpAddress === undefined ? {} : { httpAddress: options.httpAddress }),
    ...(options.grafanaCarbonAddress === undefined ? {} : { carbonAddress: options.grafanaCarbonAddress }),
    carbonIntervalMs: options.statisticsUpdateIntervalS * 1000,
    metricsPerPv: options.metricsPerPv ?? false,
    service: {
      version: packageVersion,
      serviceId: options.serviceId,
      hostName: hostname(),
      processId: process.pid,
      startedAtMs: Date.now(),
    },
    logger: environment.logger,
    stopping: environment.stopping,
  });
  try {
    return await startForwarding(options, environment, observability);
  } catch (error) {
    await observability.close();
    throw error;
  }
}

async function startForwarding(
  options: LauncherOptions,
  environment: DaemonEnvironment,
  observability: Observability,
): Promise<Daemon> {
  const { logger } = environment;
  const retry: ConnectRetry = {
    ...DEFAULT_CONNECT_RETRY,
    cancelled: environment.stopping,
    abort: environment.shutdown,
  };
  const clientConfig = (endpoint: KafkaEndpoint): Record<string, string> =>
    kafkaClientConfig(endpoint, options.tls, options.kafkaProperties);

  let producerFailed: (reason: string) => void = () => undefined;
  const failed = new Promise<string>((resolveFailed) => (producerFailed = resolveFailed));
  /** Creates and connects the producer of a role, and shows it in the metrics and status. */
  const startProducer = async (
    role: 'output' | 'status' | 'storage',
    endpoint: KafkaEndpoint,
    defaults: Readonly<Record<string, string>> = {},
  ): Promise<KafkaProducer> => {
    const config = { ...defaults, ...clientConfig(endpoint) };
    const started = await KafkaProducer.create(config, `${role} producer`, logger, retry);
    observability.addProducer(role, started);
    started.onFatalError((reason) => producerFailed(`Kafka ${role} producer failed for good: ${reason}`));
    return started;
  };
  // With a spool, messages never expire in librdkafka: the spool keeps them until Kafka has them.
  const producer = await startProducer(
    'output',
    options.outputBroker,
    options.spool ? SPOOL_PRODUCER_DEFAULTS : {},
  );
  const spooling =
    options.spool &&
    openSpool(options.spool, producer, logger, (requests) =>
      readPartitionTails(clientConfig(options.outputBroker), requests, logger, retry),
    );
  const sink = spooling ?? producer;
  if (spooling) observability.setSpool(spooling.spool);
  const statusProducer = await startProducer('status', options.statusTopic);
  const storageProducer = options.storageTopic && (await startProducer('storage', options.storageTopic));
  const store =
    options.storageTopic && storageProducer
      ? new StreamStore(storageProducer, topicOf(options.storageTopic))
      : undefined;

  // A group member's streams go through the hand-over sink, which holds what a new owner must not forward yet.
  const handoverSink = options.group ? new HandoverSink(sink) : undefined;
  const forwarder = new Forwarder({
    sink: handoverSink ?? sink,
    logger,
    providerFactory: (protocol: EpicsProtocol): PvProvider => {
      switch (protocol) {
        case 'ca': {
          const client = new CaClient({ env: environment.env, logger });
          observability.addEpicsClient(protocol, client);
          return client;
        }
        case 'pva': {
          const client = new PvaClient({
            env: environment.env,
            logger,
            monitor: { queueSize: PVA_SERVER_QUEUE_SIZE },
          });
          observability.addEpicsClient(protocol, client);
          return client;
        }
        case 'fake':
          return new FakeProvider({ periodMs: options.fakePvPeriodMs });
      }
    },
    ...(options.pvUpdatePeriodMs === undefined ? {} : { pvUpdatePeriodMs: options.pvUpdatePeriodMs }),
    produceLatency: observability.produceLatency,
  });
  observability.setForwarder(forwarder);
  producer.onFailure(({ topic, key, reason }) => forwarder.noteDeliveryFailure(topic, key, reason));
  let membership: GroupMembership | undefined;
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
    () =>
      options.group && {
        id: options.group.groupId,
        // Until the member has joined: no partitions, and the count it will ask for.
        partitions: membership?.assignedPartitions() ?? [],
        partitionCount: membership?.partitionCount ?? options.group.partitions,
        desiredStreams: forwarder.streams().length,
        handovers: membership?.handoversInProgress() ?? [],
        ...(options.storageTopic === undefined ? {} : { storageTopic: topicOf(options.storageTopic) }),
      },
    () => (spooling ? spoolStatus(spooling.spool.figures, Date.now()) : undefined),
  );
  // A group member forwards nothing until the group assigns it partitions.
  if (options.group) forwarder.selectForwarded(() => false);
  const afterValidCommand = (): void => {
    status.report();
    store?.save(forwarder.streams());
  };

  if (options.storageTopic && !options.skipRetrieval) {
    const storageTopic = topicOf(options.storageTopic);
    logger.info(`Restoring the stream set from storage topic ${storageTopic}`);
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
  observability.configConsumerStarted();
  logger.info(`Listening for commands on config topic ${configTopic}`);
  if (options.group && handoverSink) {
    membership = await joinGroup(options.group, clientConfig(options.configTopic), {
      forwarder,
      producer: sink,
      handoverSink,
      memberName: `${options.serviceId}/${randomUUID().slice(0, 8)}`,
      logger,
      retry,
      // Ownership changes are reported at once, as commands are.
      reportStatus: () => status.report(),
    });
    observability.setGroup(membership);
  }
  status.start();
  status.report();
  const neverConnected = new NeverConnectedLog(() => forwarder.streamStatuses(), logger);
  neverConnected.start();
  observability.started();
  logger.info(`Forwarder ${packageVersion} started, service id ${options.serviceId}`);

  return {
    forwarder,
    producer,
    configConsumer,
    membership,
    observability,
    failed,
    async stop(): Promise<boolean> {
      observability.stopping();
      await configConsumer.close();
      status.stop();
      neverConnected.stop();
      await membership?.close();
      await forwarder.stop();
      // Readers of the status topic see a clean stop at once, instead of a forwarder gone silent.
      status.reportStopped();
      const [flushed] = await Promise.all([
        sink.close(SHUTDOWN_FLUSH_MS),
        statusProducer.close(2_000),
        storageProducer?.close(5_000),
      ]);
      await observability.close();
      if (!flushed && spooling) {
        logger.warn(
          'Kafka did not acknowledge every message before shutdown; what it lacks is kept in the spool',
        );
      } else if (!flushed) {
        logger.error(
          `Kafka did not acknowledge every message within ${SHUTDOWN_FLUSH_MS / 1000} s of shutdown`,
        );
      }
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

/** Joins the forwarding group; from then on the group's assignments decide which streams this member forwards. */
async function joinGroup(
  settings: GroupSettings,
  config: Readonly<Record<string, string>>,
  parts: {
    readonly forwarder: Forwarder;
    readonly producer: Pick<KafkaProducer, 'flush'>;
    readonly handoverSink: HandoverSink;
    readonly memberName: string;
    readonly logger: Logger;
    readonly retry: ConnectRetry;
    readonly reportStatus: () => void;
  },
): Promise<GroupMembership> {
  const { forwarder, producer, logger } = parts;
  return GroupMembership.join(
    config,
    settings,
    logger,
    {
      ownershipChanged(owns) {
        const { started, stopped } = forwarder.selectForwarded((spec) => owns(spec.pvName));
        const forwarded = forwarder.streamStatuses().length;
        logger.info(
          `Forwarding group ${settings.groupId}: started ${started} streams, stopped ${stopped}; ` +
            `forwarding ${forwarded} of ${forwarder.streams().length}`,
        );
        parts.reportStatus();
      },
      flush: (timeoutMs) => producer.flush(timeoutMs),
      pvNames: () => forwarder.streams().map((spec) => spec.pvName),
      handoversChanged: () => parts.reportStatus(),
    },
    { name: parts.memberName, sink: parts.handoverSink },
    parts.retry,
  );
}
