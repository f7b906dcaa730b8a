/** Reading a benchmark topic back: a low-level consumer from offset 0, and what kind of message each one is. */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';

/** The FlatBuffers file identifier of a message (f144, al00, ep01, ...). */
export const identifierOf = (payload: Buffer): string => payload.toString('latin1', 4, 8);

/** Low-level consumer of one single-partition topic from offset 0, read in batches. */
export class TopicScan {
  private constructor(
    private readonly consumer: RdKafka.KafkaConsumer,
    private readonly topic: string,
  ) {}

  static async open(config: Record<string, string>, topic: string): Promise<TopicScan> {
    const consumer = new rdkafka.KafkaConsumer(
      { ...config, 'group.id': `bench-${Math.random().toString(36).slice(2)}`, 'enable.auto.commit': false },
      {},
    );
    await new Promise<void>((resolveConnect, rejectConnect) =>
      consumer.connect({ timeout: 20_000 }, (error) => (error ? rejectConnect(error) : resolveConnect())),
    );
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    consumer.setDefaultConsumeTimeout(100);
    return new TopicScan(consumer, topic);
  }

  async batch(): Promise<RdKafka.Message[]> {
    return new Promise((resolveBatch, rejectBatch) =>
      this.consumer.consume(20_000, (error, messages) =>
        error ? rejectBatch(error) : resolveBatch(messages),
      ),
    );
  }

  async endOffset(): Promise<number> {
    return new Promise((resolveEnd, rejectEnd) =>
      this.consumer.queryWatermarkOffsets(this.topic, 0, 5_000, (error, offsets) =>
        error ? rejectEnd(error) : resolveEnd(offsets.highOffset),
      ),
    );
  }

  /** Reads on from the consumer's position up to the current end offset. */
  async readAll(onMessage: (message: RdKafka.Message) => void): Promise<void> {
    const end = await this.endOffset();
    let next = 0;
    while (next < end) {
      for (const message of await this.batch()) {
        onMessage(message);
        next = message.offset + 1;
      }
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolveClose) => this.consumer.disconnect(() => resolveClose()));
  }
}
