/**
 * Servers whose circuit closed with channels on it, and how many, so that a client can say when one is back. A
 * server that never comes back under the same address (an IOC restarted on another port) is forgotten, oldest
 * first, once more than `limit` are remembered: a daemon running for months keeps a bounded list.
 */
export class LostServers {
  private readonly channels = new Map<string, number>();

  constructor(private readonly limit = 1_000) {}

  /** The server's circuit closed with `channelCount` channels on it. */
  lost(server: string, channelCount: number): void {
    this.channels.delete(server);
    this.channels.set(server, channelCount);
    if (this.channels.size > this.limit) {
      const oldest = this.channels.keys().next();
      if (!oldest.done) this.channels.delete(oldest.value);
    }
  }

  /** A circuit to the server is up: the channel count it had when lost, or undefined if it was not lost. */
  returned(server: string): number | undefined {
    const channelCount = this.channels.get(server);
    this.channels.delete(server);
    return channelCount;
  }
}
