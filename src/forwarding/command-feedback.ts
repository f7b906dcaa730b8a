/**
 * The log line that says what a config command did, so an operator can tell from the log alone: ADD n new,
 * m already present; REMOVE matched n (a warning when nothing matched: usually a typo); REMOVEALL removed n;
 * REPLACE kept, added, removed. Per-stream lines follow it only for small commands (PER_STREAM_LINES), so that
 * a start-up with thousands of streams is a handful of lines at info, the rest at debug.
 */
import type { ConfigCommand } from '../streams/commands.js';
import type { RegistryChange } from '../streams/registry.js';

/** Commands that change at most this many streams get a line per stream at info; larger ones at debug. */
export const PER_STREAM_LINES = 10;

export interface CommandFeedback {
  readonly level: 'info' | 'warn';
  readonly text: string;
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** What a command did to the stream set, in one line; `total` is the number of streams after it. */
export function commandFeedback(
  command: ConfigCommand,
  change: RegistryChange,
  total: number,
  origin: string,
): CommandFeedback {
  const { added, removed, periodicChanged, unchanged } = change;
  const from = ` from ${origin}`;
  const periodic = periodicChanged.length === 0 ? '' : `, ${periodicChanged.length} with periodic changed`;
  const now = `; ${plural(total, 'stream')} now`;
  switch (command.type) {
    case 'add':
      return {
        level: 'info',
        text: `ADD of ${plural(command.streams.length, 'stream')}${from}: ${added.length} new, ${unchanged.length} already present${periodic}${now}`,
      };
    case 'remove': {
      const patterns = command.patterns
        .slice(0, 3)
        .map(
          (pattern) =>
            `${pattern.pvName || '*'} on ${pattern.topic || '*'}${pattern.schema ? ` (${pattern.schema})` : ''}`,
        )
        .join(', ');
      const more = command.patterns.length > 3 ? ` and ${command.patterns.length - 3} more` : '';
      return removed.length === 0
        ? { level: 'warn', text: `REMOVE${from} matched no stream (${patterns}${more})${now}` }
        : { level: 'info', text: `REMOVE${from} matched ${plural(removed.length, 'stream')}${now}` };
    }
    case 'removeAll':
      return { level: 'info', text: `REMOVEALL${from} removed ${plural(removed.length, 'stream')}${now}` };
    case 'replace':
      return {
        level: 'info',
        text: `REPLACE${from}: kept ${unchanged.length + periodicChanged.length}, added ${added.length}, removed ${removed.length}${periodic}${now}`,
      };
  }
}
