/**
 * The launcher's options resolved from their three sources, in this order of precedence: the command line, the
 * environment, a config file (named by --config-file or CONFIG_FILE), then the table's defaults. Nothing here
 * exits the process or writes to a stream: the outcome says what to print and with which exit code.
 */
import type { LauncherOptions } from '../launcher-options.js';
import { assemble, commandLinePasswordWarning } from './checks.js';
import { programName, readCommandLine } from './command-line.js';
import { ConfigFileError, readConfigFile, type ConfigFileEntry } from './config-file.js';
import { LaunchError } from './launch-error.js';
import {
  addOccurrence,
  describeSource,
  type Occurrence,
  type Occurrences,
  parseOccurrence,
} from './occurrences.js';
import { suggestion } from './suggest.js';
import { launcherOptionTable, type OptionName, specByLong, specs } from './table.js';

export type ParseOutcome =
  | { readonly kind: 'run'; readonly options: LauncherOptions }
  /** `output` ends with a newline; it goes to stdout for code 0 (help, version) and to stderr for code 2. */
  | { readonly kind: 'exit'; readonly code: 0 | 2; readonly output: string };

/** Reads argv, env and the config file into LauncherOptions, or says what to print and how to exit. */
export function parseLauncherArguments(argv: readonly string[], env: NodeJS.ProcessEnv): ParseOutcome {
  try {
    const commandLine = readCommandLine(argv);
    if ('print' in commandLine) return { kind: 'exit', code: 0, output: commandLine.print };
    const environment = readEnvironment(env);
    const configFile = readConfigFileOccurrences(commandLine.occurrences, environment);
    const values = resolve([configFile, environment, commandLine.occurrences]);
    const options = assemble(values);
    const warning = commandLinePasswordWarning(commandLine.occurrences);
    return {
      kind: 'run',
      options: warning === undefined ? options : { ...options, startupWarnings: [warning] },
    };
  } catch (error) {
    if (error instanceof LaunchError) {
      return { kind: 'exit', code: 2, output: `${programName}: ${escapeControlCharacters(error.message)}\n` };
    }
    throw error;
  }
}

/** Keeps the message on one line whatever the quoted values contain: a newline shows as \n. */
function escapeControlCharacters(text: string): string {
  return text.replace(/\p{Cc}/gu, (character) => {
    const escaped = JSON.stringify(character).slice(1, -1);
    return escaped !== character ? escaped : `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function readEnvironment(env: NodeJS.ProcessEnv): Occurrences {
  const occurrences = new Map<OptionName, Occurrence[]>();
  for (const [name, spec] of specs) {
    if (spec.env === undefined) continue;
    const text = env[spec.env];
    // Empty counts as unset: templated deployments (systemd, compose files) often define empty variables.
    if (text === undefined || text === '') continue;
    addOccurrence(occurrences, name, { text, source: { from: 'environment', variable: spec.env } });
  }
  return occurrences;
}

function readConfigFileOccurrences(commandLine: Occurrences, environment: Occurrences): Occurrences {
  const given = commandLine.get('configFile')?.at(-1) ?? environment.get('configFile')?.at(-1);
  if (given === undefined) return new Map();
  const path = parseOccurrence(launcherOptionTable.configFile, given);
  const failure = (message: string): LaunchError =>
    new LaunchError(`--config-file${describeSource(given.source)}: ${message}`);
  let entries: ConfigFileEntry[];
  try {
    entries = readConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigFileError) throw failure(error.message);
    throw error;
  }

  const occurrences = new Map<OptionName, Occurrence[]>();
  const firstLine = new Map<OptionName, number>();
  for (const { key, value, line } of entries) {
    const at = `${path} line ${line}`;
    const found = specByLong.get(key);
    if (found === undefined)
      throw failure(`${at}: unknown key "${key}"${suggestion(key, [...specByLong.keys()])}`);
    const [name, spec] = found;
    if (name === 'configFile') throw failure(`${at}: config-file cannot be set in a config file`);
    const earlier = firstLine.get(name);
    if (earlier !== undefined && spec.kind.combine === undefined) {
      throw failure(`${at}: ${key} is already set on line ${earlier}`);
    }
    firstLine.set(name, line);
    if (value === undefined && spec.kind.placeholder !== undefined)
      throw failure(`${at}: ${key} needs a value`);
    addOccurrence(occurrences, name, { text: value ?? 'true', source: { from: 'config file', path, line } });
  }
  return occurrences;
}

/** `layers` from lowest to highest precedence; the default is below them all. */
function resolve(layers: readonly Occurrences[]): ReadonlyMap<OptionName, unknown> {
  const values = new Map<OptionName, unknown>();
  for (const [name, spec] of specs) {
    const given = layers.flatMap((layer) => layer.get(name) ?? []);
    const defaults: Occurrence[] =
      spec.defaultText === undefined ? [] : [{ text: spec.defaultText, source: { from: 'default' } }];
    const { combine } = spec.kind;
    if (combine === undefined) {
      const chosen = given.at(-1) ?? defaults[0];
      if (chosen !== undefined) values.set(name, parseOccurrence(spec, chosen));
    } else if (given.length > 0) {
      values.set(name, given.map((occurrence) => parseOccurrence(spec, occurrence)).reduce(combine));
    }
  }
  return values;
}
