/** Where a stream's messages go: the shared Kafka producer in the daemon, a recorder in unit tests. */
export interface MessageSink {
  /**
   * Queues one message. Never throws: a sink counts and logs its own failures, so one stream's trouble never
   * reaches another stream.
   */
  send(topic: string, key: Buffer | null, payload: Uint8Array, timestampMs: number): void;
}
