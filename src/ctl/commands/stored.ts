/** forwarder-ctl stored: the stream set on a storage topic, as a table or in the stream file format. */
import type { Command } from 'commander';
import { PROTOCOL_LABEL } from '../../model/protocol.js';
import type { StreamSpec } from '../../model/stream.js';
import { parseConfigMessage } from '../../streams/commands.js';
import { CtlError } from '../errors.js';
import { topicOf } from '../kafka-access.js';
import { readStoredStreams } from '../kafka-io.js';
import { formatTable } from '../table.js';
import { accessOf, type CtlIo, warningLog } from './common.js';

export function registerStored(program: Command, io: CtlIo): void {
  program
    .command('stored')
    .description('show the stream set stored on a storage topic (its newest valid message)')
    .argument('[topic]', 'storage topic (default: the topic of --broker)')
    .option('--json', 'print the streams as JSON, in the stream file format (usable with replace --file)')
    .action(async (argument: string | undefined, options: { json?: boolean }, self: Command) => {
      const access = accessOf(io, self);
      const topic = topicOf(access, 'storage topic', { argument });
      const stored = await readStoredStreams(access, topic, warningLog(io));
      if (stored === undefined) throw new CtlError(`no stored stream set on ${topic}`);
      const parsed = parseConfigMessage(stored);
      // readStoredStreams only returns messages that parse as an ADD or a REMOVEALL.
      const streams = parsed.ok && parsed.command.type === 'add' ? parsed.command.streams : [];
      io.stdout(
        options.json ? `${JSON.stringify(streams.map(streamFileEntry))}\n` : storedText(topic, streams),
      );
    });
}

/** A stream as a stream file entry (`stored --json`), so the output can be fed back with --file. */
function streamFileEntry(stream: StreamSpec): Record<string, unknown> {
  return {
    pv: stream.pvName,
    protocol: stream.protocol,
    topic: stream.topic,
    schema: stream.schema,
    periodic: stream.periodic,
  };
}

function storedText(topic: string, streams: readonly StreamSpec[]): string {
  if (streams.length === 0) return `The stream set stored on ${topic} is empty.\n`;
  const rows = streams.map((stream) => [
    stream.pvName,
    PROTOCOL_LABEL[stream.protocol],
    stream.topic,
    stream.schema,
    stream.periodic ? 'yes' : 'no',
  ]);
  return formatTable(['PV', 'PROTOCOL', 'TOPIC', 'SCHEMA', 'PERIODIC'], rows);
}
