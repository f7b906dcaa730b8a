/**
 * The daemon's metrics, health, HTTP listener and Graphite export in one place. Off (and free: no latency
 * hooks, no timers) unless `--http-address` or `--grafana-carbon-address` is given. The daemon tells it about
 * each part as it comes up; until start-up has finished, health says "starting".
 *
 * The daemon (src/cli/daemon.ts) is the only module that creates and feeds it. It knows the parts below by
 * their types and the narrow views it declares (ProducerView, EpicsClientView, GroupView), and nothing below
 * imports it: the pipelines take its histogram as forwarding's own LatencyObserver, and the EPICS clients fit
 * EpicsClientView without knowing of it.
 */
import type { SpoolFigures } from '../spool/spool.js';
import type { HostPort } from '../util/host-port.js';
import type { EpicsProtocol } from '../model/protocol.js';
import type { Forwarder } from '../forwarding/forwarder.js';
import type { GroupMembership } from '../group/membership.js';
import type { LatencyObserver } from '../forwarding/pipeline.js';
import type { KafkaProducer } from '../kafka/producer.js';
import { CarbonReporter, carbonPrefix } from './carbon.js';
import type { EpicsClientView } from './epics-metrics.js';
import { ForwarderMetrics } from './forwarder-metrics.js';
import type { GroupMetricsView } from './group-metrics.js';
import { HealthCheck } from './health.js';
import { ObservabilityServer } from './http.js';
import type { Logger } from '../logging/logger.js';
import { renderExposition } from './metrics.js';
import {
  type GroupStatus,
  type ServiceDescription,
  statusDocument,
  type StatusSources,
} from './status-document.js';

/** What metrics read of a forwarding group membership. */
export type GroupView = Pick<
  GroupMembership,
  | 'counters'
  | 'partitionCount'
  | 'settings'
  | 'assignedPartitions'
  | 'inGroup'
  | 'handoverCounts'
  | 'handoversInProgress'
>;

/** What metrics and the status read of the disk spool. */
export interface SpoolView {
  readonly figures: SpoolFigures;
}

export interface ObservabilityOptions {
  readonly httpAddress?: HostPort;
  readonly carbonAddress?: HostPort;
  readonly carbonIntervalMs: number;
  readonly metricsPerPv: boolean;
  readonly service: ServiceDescription;
  readonly logger: Logger;
  /** True once shutdown was asked for. */
  readonly stopping: () => boolean;
}

/** Output producer's broker check: how long a metadata request may take. */
const BROKER_PROBE_TIMEOUT_MS = 2_000;

export class Observability {
  private forwarder: Forwarder | undefined;
  private group: GroupView | undefined;
  private readonly producers = new Map<string, KafkaProducer>();
  private readonly epicsClients = new Map<EpicsProtocol, EpicsClientView>();
  private spool: SpoolView | undefined;
  private configConsumerRunning = false;
  private startedUp = false;
  private stopRequested = false;
  private readonly health: HealthCheck;
  private readonly metrics: ForwarderMetrics | undefined;
  private server: ObservabilityServer | undefined;
  private carbon: CarbonReporter | undefined;

  private constructor(options: ObservabilityOptions) {
    this.health = new HealthCheck(() => {
      const output = this.producers.get('output');
      return {
        started: () => this.startedUp,
        stopping: () => this.stopRequested || options.stopping(),
        configConsumerUp: () => this.configConsumerRunning,
        probeOutputBrokers:
          output === undefined ? undefined : () => output.brokersReachable(BROKER_PROBE_TIMEOUT_MS),
      };
    });
    const enabled = options.httpAddress !== undefined || options.carbonAddress !== undefined;
    if (enabled) {
      this.metrics = new ForwarderMetrics(
        {
          streams: () => this.forwarder?.streamStatuses() ?? [],
          commandCounts: () => this.forwarder?.commandCounts,
          producers: () => this.producers,
          epicsClients: () => this.epicsClients,
          health: () => this.health.last,
          group: () => this.groupMetrics(),
          spool: () => this.spool?.figures,
        },
        {
          perPv: options.metricsPerPv,
          version: options.service.version,
          serviceId: options.service.serviceId,
          hostName: options.service.hostName,
          startedAtMs: options.service.startedAtMs,
        },
      );
    }
  }

  /** Starts the HTTP listener and the Graphite export, as configured; rejects when the listener cannot start. */
  static async start(options: ObservabilityOptions): Promise<Observability> {
    const observability = new Observability(options);
    const metrics = observability.metrics;
    if (metrics === undefined) return observability;
    const { logger } = options;
    if (options.httpAddress !== undefined) {
      const status: StatusSources = {
        service: options.service,
        streams: () => observability.forwarder?.streamStatuses() ?? [],
        producers: () => observability.producers,
        commandCounts: () => observability.forwarder?.commandCounts,
        group: () => observability.groupStatus(),
        spool: () => observability.spool?.figures,
      };
      try {
        observability.server = await ObservabilityServer.start(
          options.httpAddress,
          {
            metrics: async () => {
              // forwarder_healthy is read from the last check: make it this one.
              await observability.health.check();
              return renderExposition(metrics.collect());
            },
            health: () => observability.health.check(),
            status: async () => statusDocument(status, await observability.health.check(), Date.now()),
          },
          logger,
        );
      } catch (error) {
        metrics.close();
        throw error;
      }
      const { host, port } = observability.server.address;
      logger.info(
        `Serving metrics, health and status on http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
      );
    }
    if (options.carbonAddress !== undefined) {
      const prefix = carbonPrefix(options.service.hostName, options.service.serviceId);
      observability.carbon = new CarbonReporter({
        address: options.carbonAddress,
        intervalMs: options.carbonIntervalMs,
        prefix,
        collect: async () => {
          await observability.health.check();
          return metrics.collect();
        },
        logger,
      });
      observability.carbon.start();
      const { host, port } = options.carbonAddress;
      logger.info(`Sending statistics to Carbon at ${host}:${port} as ${prefix}.*`);
    }
    return observability;
  }

  /** For the pipelines: the EPICS-time-to-produce histogram; undefined while metrics are off. */
  get produceLatency(): LatencyObserver | undefined {
    return this.metrics?.produceLatency;
  }

  addProducer(role: 'output' | 'status' | 'storage', producer: KafkaProducer): void {
    this.producers.set(role, producer);
  }

  addEpicsClient(protocol: EpicsProtocol, client: EpicsClientView): void {
    this.epicsClients.set(protocol, client);
  }

  setForwarder(forwarder: Forwarder): void {
    this.forwarder = forwarder;
  }

  /** With --group-id: the member's figures join the metrics. */
  /** With --spool-dir: the spool's figures join the metrics and the status. */
  setSpool(spool: SpoolView): void {
    this.spool = spool;
  }

  setGroup(group: GroupView): void {
    this.group = group;
  }

  private groupStatus(): GroupStatus | undefined {
    const group = this.group;
    if (group === undefined) return undefined;
    return {
      id: group.settings.groupId,
      member: group.inGroup,
      partitions: group.assignedPartitions(),
      partitionCount: group.partitionCount,
      desiredStreams: this.forwarder?.streams().length ?? 0,
    };
  }

  /** The status page's view of the group, with this member's counts for the metrics. */
  private groupMetrics(): GroupMetricsView | undefined {
    const status = this.groupStatus();
    if (status === undefined || this.group === undefined) return undefined;
    return {
      groupId: status.id,
      inGroup: status.member,
      partitionCount: status.partitionCount,
      partitionsOwned: status.partitions.length,
      desiredStreams: status.desiredStreams,
      ownedStreams: this.forwarder?.streamStatuses().length ?? 0,
      counters: this.group.counters,
      handovers: this.group.handoverCounts,
      handoversInProgress: this.group.handoversInProgress().length,
    };
  }

  configConsumerStarted(): void {
    this.configConsumerRunning = true;
  }

  /** Start-up has finished: health may now be ok. */
  started(): void {
    this.startedUp = true;
  }

  /** Shutdown has begun: health says so from now on. */
  stopping(): void {
    this.stopRequested = true;
  }

  async close(): Promise<void> {
    this.configConsumerRunning = false;
    this.carbon?.close();
    await this.server?.close();
    this.metrics?.close();
  }
}
