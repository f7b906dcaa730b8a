/**
 * An option's text as one source gave it, with where it came from: the command line, an environment variable,
 * a config file line or the default. Parsing it names the option and the source in the message.
 */
import { OptionValueError } from '../../option-values/kinds.js';
import { LaunchError } from './launch-error.js';
import type { OptionName, OptionSpec } from './table.js';

/** Where a value came from, for messages. */
export type Source =
  | { readonly from: 'command line' | 'default' }
  | { readonly from: 'environment'; readonly variable: string }
  | { readonly from: 'config file'; readonly path: string; readonly line: number };

export interface Occurrence {
  readonly text: string;
  readonly source: Source;
}

/** Everything one source gave, by option: repeatable options use every occurrence, the others the last. */
export type Occurrences = ReadonlyMap<OptionName, readonly Occurrence[]>;

export function describeSource(source: Source): string {
  switch (source.from) {
    case 'environment':
      return ` (from environment variable ${source.variable})`;
    case 'config file':
      return ` (from ${source.path} line ${source.line})`;
    default:
      return '';
  }
}

export function addOccurrence(
  map: Map<OptionName, Occurrence[]>,
  name: OptionName,
  occurrence: Occurrence,
): void {
  const list = map.get(name);
  if (list === undefined) map.set(name, [occurrence]);
  else list.push(occurrence);
}

/** The value of one occurrence; throws LaunchError naming the option and where the text came from. */
export function parseOccurrence<T>(spec: OptionSpec<T>, { text, source }: Occurrence): T {
  try {
    return spec.kind.parse(text);
  } catch (error) {
    if (error instanceof OptionValueError) {
      throw new LaunchError(`--${spec.long}${describeSource(source)}: ${error.message}`);
    }
    throw error;
  }
}
