/**
 * The launcher's command line, read with commander from the option table: every occurrence of every option, or
 * the help or version text to print. Nothing is written anywhere and the process is never exited from here.
 */
import { Command, CommanderError, Option } from 'commander';
import { kafkaUriSyntax } from '../../kafka/uri.js';
import { packageVersion } from '../../util/package-version.js';
import { LaunchError } from './launch-error.js';
import { addOccurrence, type Occurrence, type Occurrences } from './occurrences.js';
import { suggestion } from './suggest.js';
import { type OptionName, type OptionSpec, specs } from './table.js';

export const programName = 'forwarder-launch';
const helpWidth = 100;

/** The options given, or the text that --help or --version asks for; throws LaunchError. */
export function readCommandLine(argv: readonly string[]): { occurrences: Occurrences } | { print: string } {
  let output = '';
  const program = new Command(programName)
    .description('Forwards EPICS PVs (Channel Access and pvAccess) to Kafka as ESS FlatBuffers messages.')
    .addHelpText('after', helpEpilogue())
    // Left-over arguments are reported below, without quoting what might be a password.
    .allowUnknownOption()
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => (output += text),
      writeErr: (text) => (output += text),
      outputError: () => undefined,
      getOutHelpWidth: () => helpWidth,
      getErrHelpWidth: () => helpWidth,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  const attributes = new Map<OptionName, string>();
  for (const [name, spec] of specs) {
    const option = new Option(commanderFlags(spec), helpLine(spec));
    // Every occurrence is kept: repeatable options use them all, the others the last one.
    if (spec.kind.placeholder !== undefined) {
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    }
    program.addOption(option);
    attributes.set(name, option.attributeName());
  }
  program.version(packageVersion, '--version', 'print the version and exit');
  program.helpOption('-h, --help', 'print this help and exit');

  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { print: output };
    throw new LaunchError(error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '));
  }

  const leftOver = program.args[0];
  if (leftOver !== undefined) {
    if (leftOver.startsWith('-') && leftOver !== '-') {
      // Only the option's name: "--x=secret" or "-psecret" must not end up in a log.
      const flagName = leftOver.startsWith('--')
        ? (leftOver.split('=')[0] ?? leftOver)
        : leftOver.slice(0, 2);
      // Commander leaves "--flag=value" over when the option takes no value.
      if (commandLineFlags.includes(flagName))
        throw new LaunchError(`${flagName} is a flag and takes no value`);
      throw new LaunchError(`unknown option ${flagName}${suggestion(flagName, commandLineFlags)}`);
    }
    throw new LaunchError(
      'unexpected argument (not shown, as it could be a password): every setting is an option, ' +
        'e.g. --config-topic <uri>',
    );
  }

  const occurrences = new Map<OptionName, Occurrence[]>();
  const parsed = program.opts<Record<string, string[] | true | undefined>>();
  for (const [name] of specs) {
    const value = parsed[attributes.get(name) ?? ''];
    if (value === undefined) continue;
    for (const text of value === true ? ['true'] : value) {
      addOccurrence(occurrences, name, { text, source: { from: 'command line' } });
    }
  }
  return { occurrences };
}

function commanderFlags(spec: OptionSpec<unknown>): string {
  const short = spec.short === undefined ? '' : `-${spec.short}, `;
  const value = spec.kind.placeholder === undefined ? '' : ` <${spec.kind.placeholder}>`;
  return `${short}--${spec.long}${value}`;
}

const commandLineFlags: readonly string[] = [
  ...specs.map(([, spec]) => `--${spec.long}`),
  '--version',
  '--help',
];

function helpLine(spec: OptionSpec<unknown>): string {
  const env = spec.env === undefined ? '' : ` [${spec.env}]`;
  const fallback = spec.defaultText === undefined ? '' : ` (default: ${spec.defaultText})`;
  return `${spec.help}${spec.required ? ' (required)' : ''}${fallback}${env}`;
}

function helpEpilogue(): string {
  return [
    '',
    'Every option can also be given by the environment variable in brackets, or in the config file as',
    'name=value (the long name without "--"; a flag as name=true). Precedence: command line, environment,',
    'config file, default. An empty environment variable counts as unset.',
    '',
    `Kafka URI: ${kafkaUriSyntax}`,
    '  PROTOCOL is PLAINTEXT (the default), SSL, SASL_PLAINTEXT or SASL_SSL; MECHANISM is PLAIN,',
    '  SCRAM-SHA-256 or SCRAM-SHA-512, and on its own implies SASL_PLAINTEXT. The port defaults to 9092.',
    '  Passwords never go in the URI: give them by the matching -sasl-password-file option or variable',
    '  (or -sasl-password, which ps shows). Example:',
    '  SASL_SSL+SCRAM-SHA-512\\forwarder@kafka1:9093,kafka2:9093/forwarder_commands',
  ].join('\n');
}
