/** A plain librdkafka producer for the benchmarks that measure librdkafka itself, without KafkaProducer around it. */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';

/** A producer with these properties, connected, polling for delivery reports every 50 ms. */
export async function connectedProducer(config: RdKafka.ProducerGlobalConfig): Promise<RdKafka.Producer> {
  const producer = new rdkafka.Producer(config);
  await new Promise<void>((resolveConnect, rejectConnect) =>
    producer.connect({}, (error) => (error ? rejectConnect(error) : resolveConnect())),
  );
  producer.setPollInterval(50);
  return producer;
}
