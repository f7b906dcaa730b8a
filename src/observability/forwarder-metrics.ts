/**
 * The forwarder's metrics. Counters are read when scraped from the fields the parts already keep
 * (StreamPipeline.counters, Forwarder.commandCounts, KafkaProducer.counters, the EPICS clients' counters), so
 * forwarding does no extra work for them; only the EPICS-to-produce histogram is fed as messages go out.
 * No series is labelled by PV unless per-PV metrics are asked for: with thousands of PVs that would swamp a
 * Prometheus server.
 *
 * Each area has its module (stream-, kafka-, epics-, group-, spool- and process-metrics.ts); here are the forwarder's
 * identity, health and config commands, and the order in which the families are exposed.
 */
import type { EpicsProtocol } from '../model/protocol.js';
import type { CommandCounts, StreamStatus } from '../forwarding/forwarder.js';
import { type EpicsClientView, registerEpicsClientMetrics } from './epics-metrics.js';
import { type GroupMetricsView, registerGroupMetrics } from './group-metrics.js';
import { type ProducerView, registerProducerMetrics } from './kafka-metrics.js';
import { type Histogram, type MetricSnapshot, MetricsRegistry } from './metrics.js';
import { ProcessMetrics } from './process-metrics.js';
import type { HealthReport } from './health.js';
import { registerSpoolMetrics } from './spool-metrics.js';
import { OVERALL_STATES, overallState } from './status-document.js';
import { StreamMetrics } from './stream-metrics.js';
import type { SpoolFigures } from '../spool/spool.js';

/** What metrics are read from; parts appear as the daemon starts them. */
export interface MetricSources {
  streams(): readonly StreamStatus[];
  commandCounts(): Readonly<CommandCounts> | undefined;
  /** By role: output, status, storage. */
  producers(): ReadonlyMap<string, ProducerView>;
  epicsClients(): ReadonlyMap<EpicsProtocol, EpicsClientView>;
  /** The last health check; undefined before the first. */
  health(): HealthReport | undefined;
  /** With --group-id: the member's part in its forwarding group. */
  group(): GroupMetricsView | undefined;
  /** With --spool-dir: the disk spool. */
  spool?(): SpoolFigures | undefined;
}

export interface ForwarderMetricsOptions {
  /** Series per stream (updates, last update, connected), labelled by PV, protocol, topic and schema. */
  readonly perPv: boolean;
  readonly version: string;
  readonly serviceId: string;
  readonly hostName: string;
  /** Wall-clock ms when the process started. */
  readonly startedAtMs: number;
}

export class ForwarderMetrics {
  readonly registry = new MetricsRegistry();
  /** EPICS timestamp to hand-over to Kafka, per value message. */
  readonly produceLatency: Histogram;
  private readonly streams: StreamMetrics;
  private readonly process: ProcessMetrics;

  constructor(
    private readonly sources: MetricSources,
    options: ForwarderMetricsOptions,
  ) {
    const registry = this.registry;
    registry.gauge('forwarder_info', 'Version and identity of this forwarder (always 1).', () => [
      {
        labels: { version: options.version, service_id: options.serviceId, host: options.hostName },
        value: 1,
      },
    ]);
    registry.gauge('forwarder_healthy', '1 when /healthz last found the forwarder healthy, else 0.', () =>
      sources.health()?.healthy ? 1 : 0,
    );
    registry.gauge(
      'forwarder_state',
      'The overall state, 1 for the current one: ok, degraded (healthy, but streams are disconnected, never ' +
        'connected, rejecting or failing delivery), starting, unhealthy, stopping.',
      () => {
        const health = sources.health();
        const current = health === undefined ? 'starting' : overallState(health, this.streams.problems);
        return OVERALL_STATES.map((state) => ({ labels: { state }, value: state === current ? 1 : 0 }));
      },
    );
    this.streams = new StreamMetrics(registry);
    this.produceLatency = this.streams.produceLatency;
    registerProducerMetrics(registry, () => sources.producers());

    registry.counter('forwarder_config_commands_total', 'Config commands by outcome.', () => {
      const counts = sources.commandCounts();
      return [
        { labels: { outcome: 'accepted' }, value: counts?.accepted ?? 0 },
        { labels: { outcome: 'rejected' }, value: counts?.rejected ?? 0 },
      ];
    });
    registry.counter(
      'forwarder_config_streams_skipped_total',
      'Invalid streams skipped inside otherwise valid config commands.',
      () => sources.commandCounts()?.skippedStreams ?? 0,
    );
    registerEpicsClientMetrics(registry, () => sources.epicsClients());
    registerGroupMetrics(registry, () => sources.group());
    registerSpoolMetrics(registry, () => sources.spool?.(), Date.now);

    if (options.perPv) this.streams.registerPerStream(registry);
    this.process = new ProcessMetrics(registry, options.startedAtMs);
  }

  /** Every family as of now. */
  collect(nowMs = Date.now()): MetricSnapshot[] {
    this.streams.update(this.sources.streams(), nowMs);
    return this.registry.collect();
  }

  close(): void {
    this.process.close();
  }
}
