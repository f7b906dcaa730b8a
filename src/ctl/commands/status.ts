/**
 * forwarder-ctl status: the forwarders reporting on a status topic (x5f2) and their streams, once or refreshed
 * until interrupted; for forwarding groups also the streams of the desired set nobody forwards.
 */
import type { Command } from 'commander';
import { PROTOCOL_LABEL } from '../../model/protocol.js';
import { deserialiseX5f2, readFileIdentifier, X5F2_IDENTIFIER } from '../../schemas/index.js';
import { parseConfigMessage } from '../../streams/commands.js';
import { type KafkaAccess, topicOf } from '../kafka-access.js';
import { type ClientLog, readStoredStreams, readTopic } from '../kafka-io.js';
import {
  groupStorageTopics,
  groupSummaries,
  StatusCollector,
  statusDocument,
  type StreamName,
  statusText,
} from '../status-view.js';
import { positiveSeconds } from '../values.js';
import { accessOf, type CtlIo, PROGRAM_NAME, warningLog } from './common.js';

export function registerStatus(program: Command, io: CtlIo): void {
  program
    .command('status')
    .description('show the forwarders reporting on a status topic, and their streams')
    .argument('[topic]', 'status topic (default: the topic of --broker)')
    .option('--json', 'print JSON (one document per line with --watch)')
    .option('-w, --watch', 'keep reading and refresh until interrupted')
    .option('--interval <s>', 'refresh period of --watch', '2')
    .option('--since <s>', 'show forwarders heard from in the last <s> seconds', '60')
    .action(
      async (
        argument: string | undefined,
        options: { json?: boolean; watch?: boolean; interval: string; since: string },
        self: Command,
      ) => {
        const sinceS = positiveSeconds('--since', options.since, 10 * 365 * 86_400);
        const intervalS = positiveSeconds('--interval', options.interval);
        const access = accessOf(io, self);
        const topic = topicOf(access, 'status topic', { argument });
        await showStatus(io, access, topic, {
          sinceS,
          intervalS,
          json: options.json ?? false,
          watch: options.watch ?? false,
        });
      },
    );
}

async function showStatus(
  io: CtlIo,
  access: KafkaAccess,
  topic: string,
  options: { sinceS: number; intervalS: number; json: boolean; watch: boolean },
): Promise<void> {
  const collector = new StatusCollector();
  const log = warningLog(io);
  const desiredSets = new DesiredStreamSets(access, log);
  const render = async (): Promise<void> => {
    const now = io.now();
    const instances = collector.instances(now);
    const groups = groupSummaries(instances, await desiredSets.of(groupStorageTopics(instances), now));
    if (options.json) io.stdout(`${JSON.stringify(statusDocument(topic, instances, now, groups))}\n`);
    else {
      const clear = options.watch && io.stdoutIsTTY ? '\u001b[H\u001b[2J' : '';
      const separator = options.watch && !io.stdoutIsTTY ? '\n' : '';
      io.stdout(`${clear}${statusText(topic, instances, now, options.sinceS, groups)}${separator}`);
    }
  };
  const sinceMs = io.now() - options.sinceS * 1000;
  const onMessage = (message: { value: Buffer | null; timestamp?: number }): boolean => {
    const payload = message.value ?? Buffer.alloc(0);
    const timestampMs = message.timestamp ?? io.now();
    // Reading starts at the first message sent since then, but producers' clocks differ: later messages can be older.
    if (timestampMs < sinceMs) return true;
    try {
      // Other services' messages on a shared status topic are not a forwarder's status: skip them.
      if (readFileIdentifier(payload) === X5F2_IDENTIFIER)
        collector.add(deserialiseX5f2(payload), timestampMs);
    } catch (error) {
      io.stderr(
        `${PROGRAM_NAME}: warning: skipping a malformed status message: ${(error as Error).message}\n`,
      );
    }
    return true;
  };
  const start = { sinceMs };
  if (!options.watch) {
    await readTopic(access, topic, { start, stopAtEnd: true, onMessage }, log);
    await render();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const refresh = (): void => {
    render().catch((error: unknown) => io.stderr(`${PROGRAM_NAME}: warning: ${(error as Error).message}\n`));
  };
  const onCaughtUp = (): void => {
    refresh();
    timer = setInterval(refresh, options.intervalS * 1000);
  };
  try {
    const signal = io.interrupted();
    await readTopic(access, topic, { start, stopAtEnd: false, signal, onMessage, onCaughtUp }, log);
  } finally {
    clearInterval(timer);
  }
}

/** How long `status --watch` reuses a group's desired stream set before reading its storage topic again. */
const DESIRED_SET_REFRESH_MS = 30_000;

/**
 * The desired stream set of each forwarding group, read from the storage topic its members name, so that status
 * can list the streams nobody forwards. A storage topic that cannot be read leaves the group's set unknown.
 */
class DesiredStreamSets {
  private readonly cache = new Map<string, { readMs: number; streams: readonly StreamName[] | undefined }>();

  constructor(
    private readonly access: KafkaAccess,
    private readonly log: ClientLog,
  ) {}

  async of(
    storageTopics: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<Map<string, readonly StreamName[]>> {
    const sets = new Map<string, readonly StreamName[]>();
    for (const [group, topic] of storageTopics) {
      let cached = this.cache.get(topic);
      if (cached === undefined || nowMs - cached.readMs > DESIRED_SET_REFRESH_MS) {
        cached = { readMs: nowMs, streams: await this.read(topic) };
        this.cache.set(topic, cached);
      }
      if (cached.streams !== undefined) sets.set(group, cached.streams);
    }
    return sets;
  }

  private async read(topic: string): Promise<readonly StreamName[] | undefined> {
    let stored: Uint8Array | undefined;
    try {
      stored = await readStoredStreams(this.access, topic, this.log);
    } catch {
      return undefined;
    }
    if (stored === undefined) return undefined;
    // readStoredStreams only returns messages that parse as an ADD or a REMOVEALL (an empty set).
    const parsed = parseConfigMessage(stored);
    if (!parsed.ok || parsed.command.type !== 'add') return [];
    return parsed.command.streams.map((stream) => ({
      pv: stream.pvName,
      protocol: PROTOCOL_LABEL[stream.protocol],
      topic: stream.topic,
      schema: stream.schema,
    }));
  }
}
