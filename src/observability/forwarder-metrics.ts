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
import { registerSpoolMetrics } from './spool-metrics.js';
import { StreamMetrics } from './stream-metrics.js';
import type { SpoolFigures } from '../spool/spool.js';

/** What metrics are read from; parts appear as the daemon starts them. */
export interface MetricSources {
  streams(): readonly StreamStatus[];
  commandCounts(): Readonly<CommandCounts> | undefined;
  /** By role: output, status, storage. */
  producers(): ReadonlyMap<string, ProducerView>;
  epicsClients(): ReadonlyMap<EpicsProtocol, EpicsClientView>;
  /** 1 while healthy (as last checked), 0 otherwise. */
  healthy(): boolean;
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
      sources.healthy() ? 1 : 0,
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
  collect(): MetricSnapshot[] {
    this.streams.update(this.sources.streams());
    return this.registry.collect();
  }

  close(): void {
    this.process.close();
  }
}
