/**
 * The desired set of streams and how commands change it. Pure bookkeeping: the forwarder turns each change into
 * subscriptions started, stopped or re-flagged.
 */
import type { ConfigCommand, StreamPattern } from './commands.js';
import { type StreamSpec, streamKey } from '../model/stream.js';
import { fieldMatcher } from './wildcard.js';

/** What a command changed. `periodicChanged` streams keep running with the new flag. */
export interface RegistryChange {
  readonly added: readonly StreamSpec[];
  readonly removed: readonly StreamSpec[];
  readonly periodicChanged: readonly StreamSpec[];
  /** ADDs of streams that already existed unchanged. */
  readonly unchanged: readonly StreamSpec[];
}

export class StreamRegistry {
  private readonly streams = new Map<string, StreamSpec>();

  get size(): number {
    return this.streams.size;
  }

  /** Streams in the order they were added. */
  list(): StreamSpec[] {
    return [...this.streams.values()];
  }

  apply(command: ConfigCommand): RegistryChange {
    switch (command.type) {
      case 'add':
        return this.add(command.streams);
      case 'remove':
        return this.remove(command.patterns);
      case 'removeAll':
        return this.removeWhere(() => true);
      case 'replace':
        return this.replace(command.streams);
    }
  }

  private add(streams: readonly StreamSpec[]): RegistryChange {
    const added: StreamSpec[] = [];
    const periodicChanged: StreamSpec[] = [];
    const unchanged: StreamSpec[] = [];
    for (const stream of streams) {
      const key = streamKey(stream);
      const existing = this.streams.get(key);
      if (existing === undefined) added.push(stream);
      else if (existing.periodic !== stream.periodic) periodicChanged.push(stream);
      else {
        unchanged.push(stream);
        continue;
      }
      this.streams.set(key, stream);
    }
    return { added, removed: [], periodicChanged, unchanged };
  }

  private remove(patterns: readonly StreamPattern[]): RegistryChange {
    const matchers = patterns.map((pattern) => {
      const name = fieldMatcher(pattern.pvName);
      const topic = fieldMatcher(pattern.topic);
      return (stream: StreamSpec): boolean =>
        name(stream.pvName) &&
        topic(stream.topic) &&
        (pattern.schema === '' || pattern.schema === stream.schema);
    });
    return this.removeWhere((stream) => matchers.some((matches) => matches(stream)));
  }

  /** REPLACE: the new set wins, but streams in both keep running (only their periodic flag may change). */
  private replace(streams: readonly StreamSpec[]): RegistryChange {
    const wanted = new Set(streams.map(streamKey));
    const { removed } = this.removeWhere((stream) => !wanted.has(streamKey(stream)));
    return { ...this.add(streams), removed };
  }

  private removeWhere(predicate: (stream: StreamSpec) => boolean): RegistryChange {
    const removed: StreamSpec[] = [];
    for (const [key, stream] of this.streams) {
      if (predicate(stream)) {
        removed.push(stream);
        this.streams.delete(key);
      }
    }
    return { added: [], removed, periodicChanged: [], unchanged: [] };
  }
}
