import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signalAndWait, untilOutput } from './child-output.js';
import { cacheDir, repoRoot } from './paths.js';

const kafkaVersion = /<kafka\.version>(.+)<\/kafka\.version>/.exec(
  readFileSync(join(repoRoot, 'test', 'env', 'kafka', 'pom.xml'), 'utf8'),
)?.[1];

/** The Apache Kafka jars `test/env/kafka/setup.sh` fetched. */
const kafkaLibs = join(cacheDir, `kafka-${kafkaVersion}`, 'libs');

/** A fresh KRaft cluster id; every server of one cluster is formatted with the same one. */
export function kafkaClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/** JVM heap bounds, e.g. `256m`. */
export interface JvmHeap {
  readonly initial: string;
  readonly max: string;
}

/** What every test server runs with, alone or in a cluster: KRaft, broker and controller in one JVM. */
export function kraftProperties(settings: {
  readonly nodeId: number;
  /** `id@host:port` of every controller of the cluster. */
  readonly voters: readonly string[];
  readonly dataDir: string;
  /** Replicas of Kafka's own topics (consumer offsets, transactions) and the topics created on first use. */
  readonly replication: number;
}): string[] {
  const { replication } = settings;
  const minInSync = Math.min(2, replication);
  return [
    'process.roles=broker,controller',
    `node.id=${settings.nodeId}`,
    `controller.quorum.voters=${settings.voters.join(',')}`,
    'controller.listener.names=CONTROLLER',
    `log.dirs=${settings.dataDir}`,
    'num.partitions=1',
    `default.replication.factor=${replication}`,
    `offsets.topic.replication.factor=${replication}`,
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${minInSync}`,
    `share.coordinator.state.topic.replication.factor=${replication}`,
    `share.coordinator.state.topic.min.isr=${minInSync}`,
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    // PV arrays can be large; the forwarder's producer allows 20 MB messages.
    'message.max.bytes=20971520',
    'replica.fetch.max.bytes=20971520',
  ];
}

/**
 * One Apache Kafka server JVM on loopback, its `server.properties` and data in `workDir`: formatted once, then
 * started, stopped (SIGTERM) and killed (SIGKILL) as often as a test likes, on the same ports and data.
 */
export class KafkaServerProcess {
  private process: ChildProcess | undefined;
  private log = '';

  private constructor(
    private readonly workDir: string,
    private readonly heap: JvmHeap,
    private readonly name: string,
  ) {}

  /** Writes `properties` to `workDir` and formats the server's storage; `formatArgs` go to the storage tool. */
  static format(
    workDir: string,
    properties: readonly string[],
    options: { clusterId: string; heap: JvmHeap; name: string; formatArgs?: readonly string[] },
  ): KafkaServerProcess {
    const server = new KafkaServerProcess(workDir, options.heap, options.name);
    writeFileSync(server.propertiesFile, properties.join('\n') + '\n');
    const format = spawnSync(
      'java',
      [
        ...server.jvmArgs(),
        'kafka.tools.StorageTool',
        'format',
        // One argument with '=': a random id may begin with '-', which would read as an option.
        `--cluster-id=${options.clusterId}`,
        '-c',
        server.propertiesFile,
        ...(options.formatArgs ?? []),
      ],
      { encoding: 'utf8' },
    );
    if (format.status !== 0)
      throw new Error(`formatting ${options.name}'s storage failed: ${format.stderr}${format.stdout}`);
    return server;
  }

  private get propertiesFile(): string {
    return join(this.workDir, 'server.properties');
  }

  private jvmArgs(): string[] {
    return [
      `-Xms${this.heap.initial}`,
      `-Xmx${this.heap.max}`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(repoRoot, 'test', 'env', 'kafka', 'log4j2.properties')}`,
      '-cp',
      `${kafkaLibs}/*`,
    ];
  }

  /**
   * Starts the JVM (again, on the same ports and data); resolves once the server serves requests. In a cluster
   * that needs a majority of the controllers up: start them together.
   */
  async start(): Promise<void> {
    if (this.process) return;
    this.log = '';
    const child = spawn('java', [...this.jvmArgs(), 'kafka.Kafka', this.propertiesFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await untilOutput(child, 'Kafka Server started', this.name, 90_000, (chunk) => (this.log += chunk));
  }

  /** Orderly shutdown (SIGTERM: the server hands its partition leadership over first), data kept. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL, as when the server's host dies; resolves once the process is gone. Data kept. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGKILL without waiting: synchronous, so it can run in a process 'exit' handler. */
  killNow(): void {
    this.process?.kill('SIGKILL');
    this.process = undefined;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** What the server printed since its last start (warnings and errors: test/env/kafka/log4j2.properties). */
  get output(): string {
    return this.log;
  }

  /** Lets the test process exit while the server runs (it is then killed from an 'exit' handler). */
  detachFromEventLoop(): void {
    const child = this.process;
    if (!child) return;
    child.unref();
    for (const stream of [child.stdout, child.stderr])
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    await signalAndWait(child, signal, 30_000);
  }
}
