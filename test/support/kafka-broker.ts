import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaServerProcess, kafkaClusterId, kraftProperties } from './kafka-server.js';
import { cacheDir } from './paths.js';
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

/**
 * A real single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on loopback, with
 * PLAINTEXT, SASL_PLAINTEXT, SASL_SSL and SSL listeners on free ports. Jars and certificates come from
 * `test/env/kafka/setup.sh`. It can be stopped and started again on the same ports with its data kept.
 */
export class TestKafkaBroker {
  private constructor(
    readonly info: KafkaBrokerInfo,
    private readonly workDir: string,
    private readonly server: KafkaServerProcess,
  ) {}

  static async start(): Promise<TestKafkaBroker> {
    const certs = join(cacheDir, 'kafka-certs');
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
      ...kraftProperties({
        nodeId: 1,
        voters: [`1@127.0.0.1:${ports.CONTROLLER}`],
        dataDir: join(workDir, 'data'),
        replication: 1,
      }),
      `listeners=${Object.entries(ports)
        .map(([name, port]) => `${name}://127.0.0.1:${port}`)
        .join(',')}`,
      `advertised.listeners=${Object.entries(listeners)
        .map(([name, address]) => `${name}://${address}`)
        .join(',')}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
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
    ];
    const scram = Object.entries(kafkaUsers).flatMap(([user, secret]) =>
      ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mechanism) => [
        '--add-scram',
        `${mechanism}=[name=${user},password=${secret}]`,
      ]),
    );
    const server = KafkaServerProcess.format(workDir, config, {
      clusterId: kafkaClusterId(),
      heap: { initial: '256m', max: '768m' },
      name: 'Kafka broker',
      formatArgs: scram,
    });
    const broker = new TestKafkaBroker(
      {
        listeners,
        users: { ...kafkaUsers },
        caFile: join(certs, 'ca.pem'),
        clientCertFile: join(certs, 'client.pem'),
        clientKeyFile: join(certs, 'client.key'),
      },
      workDir,
      server,
    );
    await broker.start();
    return broker;
  }

  /** Starts the broker process (again, on the same ports and data); resolves once it serves requests. */
  async start(): Promise<void> {
    await this.server.start();
  }

  /** Orderly shutdown (SIGTERM), data kept for a later start(). */
  async stop(): Promise<void> {
    await this.server.stop();
  }

  get running(): boolean {
    return this.server.running;
  }

  get output(): string {
    return this.server.output;
  }

  /** Lets the process exit while the broker runs (a private broker is then killed from an 'exit' handler). */
  detachFromEventLoop(): void {
    this.server.detachFromEventLoop();
  }

  /** Kills the broker at once; synchronous, so it can run in a process 'exit' handler. */
  kill(): void {
    this.server.killNow();
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Stops the broker and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
