import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaServerProcess, kafkaClusterId, kraftProperties } from './kafka-server.js';
import { freePort } from './ports.js';

/** Where a partition is, as the cluster's metadata says. */
export interface PartitionState {
  readonly partition: number;
  /** Broker id of the leader; -1 while there is none. */
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/** Heap per broker: three JVMs share the test machine with the IOC, the forwarder and the test itself. */
const BROKER_HEAP = { initial: '128m', max: '512m' };
/** Replicas that must have a message before a producer with acks=all is told it is written. */
export const CLUSTER_MIN_IN_SYNC = 2;

/**
 * A real Kafka cluster of `size` brokers on loopback (default 3): one JVM each, every one broker and KRaft
 * controller (so the controller quorum is the same three), PLAINTEXT only, from the same Apache jars as the single
 * test broker. Topics created on first use, and Kafka's own topics, have a replica on every broker and need
 * CLUSTER_MIN_IN_SYNC of them in sync. A broker can be stopped, killed and started again on its ports and data.
 */
export class TestKafkaCluster {
  private metadataClient: RdKafka.Producer | undefined;

  private constructor(
    private readonly workDir: string,
    private readonly servers: ReadonlyMap<
      number,
      { readonly address: string; readonly server: KafkaServerProcess }
    >,
  ) {}

  static async start(size = 3): Promise<TestKafkaCluster> {
    const workDir = mkdtempSync(join(tmpdir(), 'ekf-kafka-cluster-'));
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const ports = new Map<number, { client: number; controller: number }>();
    for (const id of ids) ports.set(id, { client: await freePort(), controller: await freePort() });
    const voters = ids.map((id) => `${id}@127.0.0.1:${ports.get(id)!.controller}`);
    const clusterId = kafkaClusterId();
    const servers = new Map<number, { address: string; server: KafkaServerProcess }>();
    for (const id of ids) {
      const { client, controller } = ports.get(id)!;
      const dir = join(workDir, `broker-${id}`);
      mkdirSync(dir);
      const properties = [
        ...kraftProperties({ nodeId: id, voters, dataDir: join(dir, 'data'), replication: size }),
        `listeners=PLAINTEXT://127.0.0.1:${client},CONTROLLER://127.0.0.1:${controller}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${client}`,
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name=PLAINTEXT',
        `min.insync.replicas=${Math.min(CLUSTER_MIN_IN_SYNC, size)}`,
      ];
      const server = KafkaServerProcess.format(dir, properties, {
        clusterId,
        heap: BROKER_HEAP,
        name: `Kafka broker ${id}`,
      });
      servers.set(id, { address: `127.0.0.1:${client}`, server });
    }
    const cluster = new TestKafkaCluster(workDir, servers);
    // Whatever happens to the test, no JVM outlives it.
    process.once('exit', () => cluster.killAll());
    // Together: a broker starts only once a majority of the controllers is up.
    await Promise.all(ids.map((id) => cluster.startBroker(id)));
    return cluster;
  }

  get brokerIds(): number[] {
    return [...this.servers.keys()];
  }

  /** host:port of broker `id`. */
  address(id: number): string {
    return this.entry(id).address;
  }

  /** Every broker's address, comma-separated, as bootstrap.servers and Kafka URIs take them. */
  get bootstrap(): string {
    return this.brokerIds.map((id) => this.address(id)).join(',');
  }

  /** librdkafka properties that reach the cluster. */
  get clientConfig(): Record<string, string> {
    return { 'bootstrap.servers': this.bootstrap, 'security.protocol': 'plaintext' };
  }

  running(id: number): boolean {
    return this.entry(id).server.running;
  }

  /** What broker `id` printed since its last start. */
  output(id: number): string {
    return this.entry(id).server.output;
  }

  async startBroker(id: number): Promise<void> {
    await this.entry(id).server.start();
  }

  /** Orderly shutdown: the broker hands the leadership of its partitions over before it exits. */
  async stopBroker(id: number): Promise<void> {
    await this.entry(id).server.stop();
  }

  /** SIGKILL: its partitions move only once the controllers notice it is gone. */
  async killBroker(id: number): Promise<void> {
    await this.entry(id).server.kill();
  }

  /** The partitions of `topic`, as the cluster's metadata says now. */
  async partitions(topic: string): Promise<PartitionState[]> {
    const client = await this.connectedMetadataClient();
    const metadata = await new Promise<RdKafka.Metadata>((resolveMetadata, rejectMetadata) =>
      client.getMetadata({ topic, timeout: 5_000 }, (error, answer) =>
        error ? rejectMetadata(error) : resolveMetadata(answer),
      ),
    );
    const found = metadata.topics.find(({ name }) => name === topic);
    if (!found || found.partitions.length === 0) throw new Error(`no metadata for topic ${topic}`);
    return found.partitions
      .map(({ id, leader, replicas, isrs }) => ({ partition: id, leader, replicas, isr: isrs }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** Waits until every partition of `topic` has a leader that is not `formerLeader`; resolves with the leaders. */
  async waitForLeaders(topic: string, formerLeader: number, timeoutMs = 60_000): Promise<PartitionState[]> {
    return this.waitFor(
      topic,
      (partitions) => partitions.every(({ leader }) => leader >= 0 && leader !== formerLeader),
      timeoutMs,
      `every partition of ${topic} led by a broker other than ${formerLeader}`,
    );
  }

  /** Waits until every replica of every partition of `topics` is in sync (no under-replicated partition). */
  async waitUntilInSync(topics: readonly string[], timeoutMs = 120_000): Promise<void> {
    for (const topic of topics) {
      await this.waitFor(
        topic,
        (partitions) => partitions.every(({ replicas, isr }) => replicas.every((id) => isr.includes(id))),
        timeoutMs,
        `every replica of ${topic} in sync`,
      );
    }
  }

  /**
   * Restarts every broker in turn, as an operator upgrading the cluster would: orderly stop, start, and before
   * the next one, every replica of `topics` in sync again. `onEach` hears of each broker as it goes down.
   */
  async rollingRestart(
    topics: readonly string[],
    onEach: (id: number) => void = () => undefined,
  ): Promise<void> {
    for (const id of this.brokerIds) {
      onEach(id);
      await this.stopBroker(id);
      await this.startBroker(id);
      await this.waitUntilInSync(topics);
    }
  }

  /** Stops every broker and deletes the cluster's data. */
  async destroy(): Promise<void> {
    const client = this.metadataClient;
    this.metadataClient = undefined;
    if (client) await new Promise((resolveDisconnect) => client.disconnect(resolveDisconnect));
    await Promise.all(this.brokerIds.map((id) => this.stopBroker(id)));
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private killAll(): void {
    for (const { server } of this.servers.values()) server.killNow();
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private entry(id: number): { readonly address: string; readonly server: KafkaServerProcess } {
    const entry = this.servers.get(id);
    if (!entry) throw new Error(`no broker ${id} in the cluster (brokers ${this.brokerIds.join(', ')})`);
    return entry;
  }

  /** A plain librdkafka client asks the metadata of any broker that answers (it keeps retrying the others). */
  private async connectedMetadataClient(): Promise<RdKafka.Producer> {
    if (!this.metadataClient) {
      const client = new rdkafka.Producer(this.clientConfig);
      await new Promise<void>((resolveConnect, rejectConnect) =>
        client.connect({ timeout: 20_000 }, (error) => (error ? rejectConnect(error) : resolveConnect())),
      );
      this.metadataClient = client;
    }
    return this.metadataClient;
  }

  private async waitFor(
    topic: string,
    done: (partitions: readonly PartitionState[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<PartitionState[]> {
    const deadline = Date.now() + timeoutMs;
    let last: PartitionState[] | string;
    for (;;) {
      try {
        last = await this.partitions(topic);
        if (done(last)) return last;
      } catch (error) {
        // The metadata request itself may fail while a broker is away: ask again.
        last = (error as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`${what}: not within ${timeoutMs / 1000} s (last seen: ${JSON.stringify(last)})`);
      await sleep(250);
    }
  }
}
