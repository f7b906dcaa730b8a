/** Where a stream's messages go: the shared Kafka producer in the daemon, a recorder in unit tests. */
export interface MessageSink {
  /**
   * Queues one message. Never throws: a sink counts and logs its own failures, so one stream's trouble never
   * reaches another stream. The payload may live only until the call returns (the next value message is built in
   * the same buffer): a sink that keeps it keeps keepable(payload) (src/schemas/builder.ts).
   */
  send(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): void;
}
