import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { untilOutput } from './child-output.js';
import { cacheDir, repoRoot } from './paths.js';
import { freePort } from './ports.js';

/** SASL users the broker knows, for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 alike. */
export const kafkaUsers = {
  alice: 'alice-secret',
  bob: 'bob-secret',
} as const;

export type KafkaListenerName = 'PLAINTEXT' | 'SASL_PLAINTEXT' | 'SASL_SSL' | 'SSL';

/** What a test needs to reach the broker; serialisable so one broker can serve every test file of a run. */
export interface KafkaBrokerInfo {
  /** host:port per listener. */
  listeners: Record<KafkaListenerName, string>;
  users: Record<string, string>;
  /** PEM files: the CA that signed the broker certificate, and a client certificate and key for mutual TLS. */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

const kafkaVersion = /<kafka\.version>(.+)<\/kafka\.version>/.exec(
  readFileSync(join(repoRoot, 'test', 'env', 'kafka', 'pom.xml'), 'utf8'),
)?.[1];

function kafkaClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * A real single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on loopback, with
 * PLAINTEXT, SASL_PLAINTEXT, SASL_SSL and SSL listeners on free ports. Jars and certificates come from
 * `test/env/kafka/setup.sh`. It can be stopped and started again on the same ports with its data kept.
 */
export class TestKafkaBroker {
  private process: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly info: KafkaBrokerInfo,
    private readonly workDir: string,
  ) {}

  static async start(): Promise<TestKafkaBroker> {
    const certs = join(cacheDir, 'kafka-certs');
    const libs = join(cacheDir, `kafka-${kafkaVersion}`, 'libs');
    const workDir = mkdtempSync(join(tmpdir(), 'ekf-kafka-'));
    const ports = {
      PLAINTEXT: await freePort(),
      SASL_PLAINTEXT: await freePort(),
      SASL_SSL: await freePort(),
      SSL: await freePort(),
      CONTROLLER: await freePort(),
    };
    const listeners = Object.fromEntries(
      (['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL'] as const).map((name) => [
        name,
        `127.0.0.1:${ports[name]}`,
      ]),
    ) as Record<KafkaListenerName, string>;
    const password = readFileSync(join(certs, 'keystore-password'), 'utf8').trim();
    const plainUsers = Object.entries(kafkaUsers)
      .map(([user, secret]) => `user_${user}="${secret}"`)
      .join(' ');
    const jaas: string[] = [];
    for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
      jaas.push(
        `listener.name.${listener}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
        `listener.name.${listener}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
        `listener.name.${listener}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      );
    }
    const config = [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${ports.CONTROLLER}`,
      `listeners=${Object.entries(ports)
        .map(([name, port]) => `${name}://127.0.0.1:${port}`)
        .join(',')}`,
      `advertised.listeners=${Object.entries(listeners)
        .map(([name, address]) => `${name}://${address}`)
        .join(',')}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      ...jaas,
      `ssl.keystore.location=${join(certs, 'broker.p12')}`,
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.password=${password}`,
      `ssl.key.password=${password}`,
      `ssl.truststore.location=${join(certs, 'truststore.p12')}`,
      'ssl.truststore.type=PKCS12',
      `ssl.truststore.password=${password}`,
      // Client certificates are checked when offered, so one SSL listener serves TLS with and without mTLS.
      'listener.name.ssl.ssl.client.auth=requested',
      `log.dirs=${join(workDir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=true',
      // PV arrays can be large; the forwarder's producer allows 20 MB messages.
      'message.max.bytes=20971520',
      'replica.fetch.max.bytes=20971520',
    ];
    writeFileSync(join(workDir, 'server.properties'), config.join('\n') + '\n');
    const scram = Object.entries(kafkaUsers).flatMap(([user, secret]) =>
      ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => [
        '--add-scram',
        `${mechanism}=[name=${user},password=${secret}]`,
      ]),
    );
    const broker = new TestKafkaBroker(
      {
        listeners,
        users: { ...kafkaUsers },
        caFile: join(certs, 'ca.pem'),
        clientCertFile: join(certs, 'client.pem'),
        clientKeyFile: join(certs, 'client.key'),
      },
      workDir,
    );
    const format = spawnSync(
      'java',
      [
        ...broker.jvmArgs(libs),
        'kafka.tools.StorageTool',
        'format',
        // One argument with '=': a random id may begin with '-', which would read as an option.
        `--cluster-id=${kafkaClusterId()}`,
        '-c',
        join(workDir, 'server.properties'),
        ...scram,
      ],
      { encoding: 'utf8' },
    );
    if (format.status !== 0)
      throw new Error(`formatting Kafka storage failed: ${format.stderr}${format.stdout}`);
    broker.libs = libs;
    await broker.start();
    return broker;
  }

  private libs = '';

  private jvmArgs(libs: string): string[] {
    return [
      '-Xms256m',
      '-Xmx768m',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(repoRoot, 'test', 'env', 'kafka', 'log4j2.properties')}`,
      '-cp',
      `${libs}/*`,
    ];
  }

  /** Starts the broker process (again, on the same ports and data); resolves once it serves requests. */
  async start(): Promise<void> {
    if (this.process) return;
    this.log = '';
    const child = spawn(
      'java',
      [...this.jvmArgs(this.libs), 'kafka.Kafka', join(this.workDir, 'server.properties')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await untilOutput(child, 'Kafka Server started', 'Kafka broker', 90_000, (chunk) => (this.log += chunk));
  }

  /** Orderly shutdown (SIGTERM), data kept for a later start(). */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  get output(): string {
    return this.log;
  }

  /** Lets the process exit while the broker runs (a private broker is then killed from an 'exit' handler). */
  detachFromEventLoop(): void {
    const child = this.process;
    if (!child) return;
    child.unref();
    for (const stream of [child.stdout, child.stderr])
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  /** Kills the broker at once; synchronous, so it can run in a process 'exit' handler. */
  kill(): void {
    this.process?.kill('SIGKILL');
    this.process = undefined;
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Stops the broker and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
