/** Metrics of the Kafka producers (output, status, storage): message counts, queue depth and latencies. */
import type { ProducerCounters } from '../kafka/producer.js';
import { LATENCY_STAGES, type ProducerLatency } from '../kafka/producer-statistics.js';
import type { MetricsRegistry, Sample } from './metrics.js';

/** A Kafka producer as metrics see it. */
export interface ProducerView {
  readonly counters: Readonly<ProducerCounters>;
  readonly inFlight: number;
  /** librdkafka's latencies over its last statistics interval. */
  readonly latency?: ProducerLatency | undefined;
}

/** `producers`: by role (output, status, storage), as far as they have started. */
export function registerProducerMetrics(
  registry: MetricsRegistry,
  producers: () => ReadonlyMap<string, ProducerView>,
): void {
  const byProducer =
    (read: (view: ProducerView) => number): (() => Sample[]) =>
    () =>
      [...producers()].map(([producer, view]) => ({ labels: { producer }, value: read(view) }));
  const producerCounter = (name: string, help: string, read: (view: ProducerView) => number): void =>
    registry.counter(name, `${help} By producer: output (PV data), status, storage.`, byProducer(read));
  producerCounter(
    'forwarder_kafka_messages_queued_total',
    'Messages queued in librdkafka.',
    (view) => view.counters.queued,
  );
  producerCounter(
    'forwarder_kafka_messages_delivered_total',
    'Messages acknowledged by Kafka.',
    (view) => view.counters.delivered,
  );
  producerCounter(
    'forwarder_kafka_delivery_errors_total',
    'Messages that failed delivery (broker error, message timed out).',
    (view) => view.counters.deliveryErrors,
  );
  producerCounter(
    'forwarder_kafka_queue_full_total',
    "Messages dropped because librdkafka's local queue was full.",
    (view) => view.counters.queueFull,
  );
  producerCounter(
    'forwarder_kafka_produce_errors_total',
    'Messages librdkafka refused for another reason (too large, unknown topic, ...).',
    (view) => view.counters.produceErrors,
  );
  registry.gauge(
    'forwarder_kafka_in_flight_messages',
    'Messages queued and not yet acknowledged or failed (the producer queue depth), by producer.',
    byProducer((view) => view.inFlight),
  );
  registry.gauge(
    'forwarder_kafka_latency_seconds',
    "librdkafka's latencies over its last statistics interval (1 s), slowest broker, by producer, stage " +
      '(queue: produce to joining a request, linger.ms included; outbuf: request waiting for the socket; ' +
      'rtt: request sent to broker response) and quantile (0.5, 0.99, 1 = max).',
    () => producerLatencies(producers()),
  );
}

function producerLatencies(producers: ReadonlyMap<string, ProducerView>): Sample[] {
  const samples: Sample[] = [];
  for (const [producer, view] of producers) {
    for (const stage of LATENCY_STAGES) {
      const quantiles = view.latency?.[stage];
      if (quantiles === undefined) continue;
      samples.push(
        { labels: { producer, stage, quantile: '0.5' }, value: quantiles.p50 },
        { labels: { producer, stage, quantile: '0.99' }, value: quantiles.p99 },
        { labels: { producer, stage, quantile: '1' }, value: quantiles.max },
      );
    }
  }
  return samples;
}
