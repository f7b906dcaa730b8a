/**
 * The forwarder's core: applies config commands to the stream registry and keeps one pipeline with one EPICS
 * subscription per stream. Streams are isolated: removing one never disturbs another, including other streams of
 * the same PV (docs/differences.md, "Removing a stream leaves the PV's other streams running").
 */
import { type CommandParseResult, type ConfigCommand, parseConfigMessage } from '../streams/commands.js';
import { type RegistryChange, StreamRegistry } from '../streams/registry.js';
import type { EpicsProtocol } from '../model/protocol.js';
import { describeStream, type StreamSpec, streamKey } from '../model/stream.js';
import type { PvProvider, Subscription } from '../model/update.js';
import type { Logger } from '../logging/logger.js';
import { commandFeedback, PER_STREAM_LINES } from './command-feedback.js';
import { PeriodicResender } from './periodic.js';
import {
  type LatencyObserver,
  newStreamCounters,
  type PipelineContext,
  StreamPipeline,
  type StreamCounters,
} from './pipeline.js';
import { DeliveryFailures, type StreamDeliveryFailures } from './delivery-failures.js';
import type { MessageSink } from './sink.js';

export interface ForwarderOptions {
  readonly sink: MessageSink;
  readonly logger: Logger;
  /** Creates the client of a protocol on first use; one client serves every stream of its protocol. */
  readonly providerFactory: (protocol: EpicsProtocol) => PvProvider;
  /** Period of re-sends for periodic streams; undefined: nothing is re-sent. */
  readonly pvUpdatePeriodMs?: number;
  readonly now?: () => number;
  /** Passed to every pipeline for the EPICS-time-to-produce latency metric. */
  readonly produceLatency?: LatencyObserver;
}

/**
 * Invalid streams of one message listed one log line each; the rest get one line in all, so a junk message with
 * thousands of streams cannot flood the log.
 */
export const MAX_SKIPPED_LOGGED = 20;

/** Counts of config commands by outcome. */
export interface CommandCounts {
  accepted: number;
  rejected: number;
  /** Streams skipped inside otherwise valid commands. */
  skippedStreams: number;
}

export interface StreamStatus {
  readonly spec: StreamSpec;
  readonly counters: Readonly<StreamCounters>;
  /** Messages of the stream's PV and topic that Kafka refused or failed to deliver; absent when none. */
  readonly deliveryFailures?: StreamDeliveryFailures;
}

interface RunningStream {
  readonly pipeline: StreamPipeline;
  readonly subscription: Subscription;
}

export class Forwarder {
  readonly commandCounts: CommandCounts = { accepted: 0, rejected: 0, skippedStreams: 0 };
  private readonly deliveryFailures = new DeliveryFailures();
  private readonly registry = new StreamRegistry();
  private readonly running = new Map<string, RunningStream>();
  private readonly providers = new Map<EpicsProtocol, PvProvider>();
  private readonly resender: PeriodicResender | undefined;
  private readonly now: () => number;
  /** One for all pipelines: it is the same for every stream. */
  private readonly pipelineContext: PipelineContext;
  /** Which of the desired streams this forwarder forwards: all, unless a forwarding group shares them out. */
  private forwards: (spec: StreamSpec) => boolean = () => true;

  constructor(private readonly options: ForwarderOptions) {
    this.now = options.now ?? Date.now;
    if (options.pvUpdatePeriodMs !== undefined) {
      this.resender = new PeriodicResender(options.pvUpdatePeriodMs, this.now);
    }
    this.pipelineContext = {
      sink: options.sink,
      logger: options.logger,
      now: this.now,
      produceLatency: options.produceLatency,
      retainLatest: this.resender !== undefined,
    };
  }

  /** Decodes, validates and applies a config-topic message; false when it was rejected (and logged). */
  applyMessage(bytes: Uint8Array, origin = 'config message'): boolean {
    const parsed: CommandParseResult = parseConfigMessage(bytes);
    const { skipped } = parsed;
    for (const reason of skipped.slice(0, MAX_SKIPPED_LOGGED))
      this.options.logger.warn(`Skipping ${reason} in ${origin}`);
    if (skipped.length > MAX_SKIPPED_LOGGED) {
      this.options.logger.warn(
        `Skipping ${skipped.length - MAX_SKIPPED_LOGGED} more invalid streams in ${origin} (not listed)`,
      );
    }
    this.commandCounts.skippedStreams += parsed.skipped.length;
    if (!parsed.ok) {
      this.commandCounts.rejected++;
      this.options.logger.warn(`Ignoring ${origin}: ${parsed.reason}`);
      return false;
    }
    this.commandCounts.accepted++;
    this.applyCommand(parsed.command, origin);
    return true;
  }

  /**
   * Applies a command and logs what it did: one line in all (commandFeedback), and a line per stream at info
   * for small commands, at debug for large ones.
   */
  applyCommand(command: ConfigCommand, origin = 'config message'): RegistryChange {
    const change = this.registry.apply(command);
    const { logger } = this.options;
    const feedback = commandFeedback(command, change, this.registry.size, origin);
    logger[feedback.level](feedback.text);
    const touched =
      change.removed.length + change.added.length + change.periodicChanged.length + change.unchanged.length;
    const perStream = touched <= PER_STREAM_LINES ? logger.info.bind(logger) : logger.debug.bind(logger);
    for (const stream of change.removed) {
      if (this.stopStream(stream)) perStream(`Unsubscribed from ${describeStream(stream)}`);
      else logger.debug(`Removed ${describeStream(stream)}, which was not forwarded here`);
    }
    for (const stream of change.added) {
      if (!this.forwards(stream))
        logger.debug(`Added ${describeStream(stream)}, forwarded by another member`);
      else if (this.startStream(stream)) perStream(`Subscribed to ${describeStream(stream)}`);
    }
    for (const stream of change.periodicChanged) {
      const running = this.running.get(streamKey(stream));
      if (running) this.setPeriodic(running.pipeline, stream.periodic);
      perStream(`Stream ${describeStream(stream)} is now ${stream.periodic ? '' : 'not '}periodic`);
    }
    // A REPLACE keeps the streams it lists again; only an ADD of a stream already there is worth a line.
    if (command.type === 'add') {
      for (const stream of change.unchanged)
        perStream(`Already forwarding an identical stream: ${describeStream(stream)}`);
    }
    return change;
  }

  /** The desired streams, in the order they were added. */
  streams(): StreamSpec[] {
    return this.registry.list();
  }

  /** The streams this forwarder forwards (all desired ones, outside a forwarding group). */
  streamStatuses(): StreamStatus[] {
    return this.registry
      .list()
      .filter(this.forwards)
      .map((spec) => {
        const running = this.running.get(streamKey(spec));
        const counters = running?.pipeline.counters ?? newStreamCounters();
        const deliveryFailures = this.deliveryFailures.of(spec.topic, spec.pvName);
        return deliveryFailures === undefined ? { spec, counters } : { spec, counters, deliveryFailures };
      });
  }

  /** A message Kafka refused or failed to deliver; data messages are keyed by their PV name. */
  noteDeliveryFailure(topic: string, key: Buffer | null, reason: string): void {
    this.deliveryFailures.note(topic, key?.toString() ?? '', reason, this.now());
  }

  /**
   * Changes which desired streams this forwarder forwards, starting and stopping subscriptions to match. A
   * forwarding group calls this when the member's partitions change.
   */
  selectForwarded(forwards: (spec: StreamSpec) => boolean): { started: number; stopped: number } {
    this.forwards = forwards;
    let started = 0;
    let stopped = 0;
    for (const spec of this.registry.list()) {
      const wanted = forwards(spec);
      const running = this.running.has(streamKey(spec));
      if (wanted && !running && this.startStream(spec)) started++;
      else if (!wanted && running && this.stopStream(spec)) stopped++;
    }
    return { started, stopped };
  }

  /** Cancels every subscription and closes the EPICS clients. */
  async stop(): Promise<void> {
    for (const stream of this.registry.list()) this.stopStream(stream);
    this.resender?.stop();
    await Promise.all([...this.providers.values()].map((provider) => provider.close()));
    this.providers.clear();
  }

  private startStream(spec: StreamSpec): boolean {
    let pipeline: StreamPipeline;
    let subscription: Subscription;
    try {
      pipeline = new StreamPipeline(spec, this.pipelineContext);
      subscription = this.provider(spec.protocol).subscribe(spec.pvName, pipeline);
    } catch (error) {
      // The registry keeps the stream, so status shows what was asked for; it just has no pipeline.
      this.options.logger.error(
        `Could not subscribe to ${describeStream(spec)}: ${(error as Error).message}`,
      );
      return false;
    }
    this.running.set(streamKey(spec), { pipeline, subscription });
    this.setPeriodic(pipeline, spec.periodic);
    return true;
  }

  /** False when the stream was not running. */
  private stopStream(spec: StreamSpec): boolean {
    const key = streamKey(spec);
    const running = this.running.get(key);
    if (!running) return false;
    this.running.delete(key);
    running.subscription.cancel();
    this.resender?.delete(running.pipeline);
    return true;
  }

  private setPeriodic(pipeline: StreamPipeline, periodic: boolean): void {
    // Without --pv-update-period nothing is ever re-sent, so nothing needs caching either.
    pipeline.periodic = periodic && this.resender !== undefined;
    if (pipeline.periodic) this.resender?.add(pipeline);
    else this.resender?.delete(pipeline);
  }

  private provider(protocol: EpicsProtocol): PvProvider {
    let provider = this.providers.get(protocol);
    if (provider === undefined) {
      provider = this.options.providerFactory(protocol);
      this.providers.set(protocol, provider);
    }
    return provider;
  }
}
