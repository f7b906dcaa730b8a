/**
 * What the launcher's end-to-end tests share: a clean environment (no option variables but the ones a test sets),
 * runs of forwarder-launch that are expected to end by themselves, fake streams, and readers of what a forwarder
 * world's topics received.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { launcherOptionTable } from '../../../src/cli/options/table.js';
import { deserialiseFc00, Protocol, serialiseFc00, UpdateType } from '../../../src/schemas/index.js';
import type { F144Message, X5f2Message } from '../../../src/schemas/index.js';
import type { ForwarderWorld } from '../../support/forwarder-world.js';
import type { SaslMechanism } from '../../support/kafka.js';
import { repoRoot } from '../../support/paths.js';
import type { ReadMessage } from '../../support/topic-reader.js';

const optionVariables: readonly string[] = Object.values(launcherOptionTable).flatMap((spec) =>
  'env' in spec ? [spec.env] : [],
);

/**
 * `env` with every other option variable of the launcher set empty (which the launcher treats as unset), so
 * that nothing from the test runner's own environment reaches the forwarder as an option.
 */
export function onlyOptionVariables(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(optionVariables.map((name) => [name, ''])), ...env };
}

interface LaunchResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs forwarder-launch from the sources until it exits by itself (killed after `timeoutMs`). */
export async function launchToExit(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
): Promise<LaunchResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'forwarder-launch.ts'), ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, ...onlyOptionVariables(env) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** An fc00 ADD of fake-protocol f144 streams to the world's data topic. */
export function addFakeStreams(world: ForwarderWorld, names: readonly string[]): Uint8Array {
  return serialiseFc00({
    configChange: UpdateType.ADD,
    streams: names.map((channel) => ({
      channel,
      schema: 'f144',
      topic: world.topics.data,
      protocol: Protocol.FAKE,
      periodic: 0,
    })),
  });
}

/** The f144 messages of one PV on the world's data topic so far. */
function f144Of(world: ForwarderWorld, pvName: string): F144Message[] {
  return world.reader
    .of(world.topics.data)
    .filter((read) => read.key === pvName && read.decoded?.schema === 'f144')
    .map((read) => read.decoded?.message as F144Message);
}

/** Waits until `count` f144 messages of the PV arrived; resolves with them. */
export async function waitForF144(
  world: ForwarderWorld,
  pvName: string,
  count: number,
  timeoutMs = 20_000,
): Promise<F144Message[]> {
  await world.reader.waitFor(
    world.topics.data,
    () => f144Of(world, pvName).length >= count,
    timeoutMs,
    `${count} f144 messages of ${pvName}`,
  );
  return f144Of(world, pvName);
}

interface StatusReport {
  readonly message: X5f2Message;
  readonly streams: readonly {
    channel_name: string;
    protocol: string;
    output_topic: string;
    schema: string;
  }[];
}

function statusReport(read: ReadMessage): StatusReport | undefined {
  if (read.decoded?.schema !== 'x5f2') return undefined;
  const message = read.decoded.message as X5f2Message;
  return { message, streams: (JSON.parse(message.statusJson) as Pick<StatusReport, 'streams'>).streams };
}

/** Waits for a status report on the world's status topic that satisfies `predicate`; resolves with it. */
export async function waitForStatus(
  world: ForwarderWorld,
  predicate: (report: StatusReport) => boolean,
  timeoutMs = 20_000,
): Promise<StatusReport> {
  const matching = (messages: readonly ReadMessage[]): StatusReport | undefined =>
    messages.map(statusReport).find((report) => report !== undefined && predicate(report));
  const messages = await world.reader.waitFor(
    world.topics.status,
    (all) => matching(all) !== undefined,
    timeoutMs,
    'a matching status report',
  );
  return matching(messages) as StatusReport;
}

/** How every client of a forwarder reaches the test broker: a listener, and for SASL a mechanism and user. */
export type Security =
  | { readonly listener: 'SSL' }
  | {
      readonly listener: 'SASL_PLAINTEXT' | 'SASL_SSL';
      readonly mechanism: SaslMechanism;
      readonly user: string;
    };

/** `PROTOCOL+[MECHANISM\user@]host:port[/topic]` on the world's broker. */
export function securedUri(world: ForwarderWorld, security: Security, topic?: string): string {
  const user = security.listener === 'SSL' ? '' : `${security.mechanism}\\${security.user}@`;
  const address = world.broker.listeners[security.listener];
  return `${security.listener}+${user}${address}${topic === undefined ? '' : `/${topic}`}`;
}

/**
 * Every endpoint of the world secured alike, with the broker's CA file; quick status reports and fake updates.
 * Passwords and client certificates are for the caller to add.
 */
export function securedArguments(world: ForwarderWorld, security: Security): string[] {
  return [
    '--config-topic',
    securedUri(world, security, world.topics.config),
    '--status-topic',
    securedUri(world, security, world.topics.status),
    '--output-broker',
    securedUri(world, security),
    '--storage-topic',
    securedUri(world, security, world.topics.storage),
    '--ssl-ca-cert-file',
    world.broker.caFile,
    '--status-interval',
    '500',
    '--fake-pv-period',
    '100',
    '--verbosity',
    'Debug',
  ];
}

/** The SASL password variables of all four endpoints: `password`, but `output` for the output broker. */
export function saslPasswordVariables(password: string, output = password): NodeJS.ProcessEnv {
  return {
    CONFIG_TOPIC_SASL_PASSWORD: password,
    STATUS_TOPIC_SASL_PASSWORD: password,
    STORAGE_TOPIC_SASL_PASSWORD: password,
    OUTPUT_BROKER_SASL_PASSWORD: output,
  };
}

/** A fake stream added over the config topic reaches status, storage and the data topic: every client works. */
export async function assertForwards(world: ForwarderWorld, pvName: string): Promise<void> {
  await world.sendCommand(addFakeStreams(world, [pvName]));
  await waitForStatus(world, (report) => report.streams.some((stream) => stream.channel_name === pvName));
  await world.reader.waitFor(
    world.topics.storage,
    (messages) =>
      messages.some(
        (message) =>
          message.decoded?.schema === 'fc00' &&
          deserialiseFc00(message.payload).streams.some((stream) => stream.channel === pvName),
      ),
    20_000,
    'the stored stream set',
  );
  await waitForF144(world, pvName, 3);
}
