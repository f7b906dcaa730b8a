/**
 * forwarder-ctl: the operator's tool for forwarders. Sends config commands (fc00) to a config topic, shows what
 * forwarders report on a status topic and what a storage topic holds, and decodes any ESS message on a topic.
 * Resolves with the exit code: 0 done, 1 the operation failed (Kafka unreachable, topic missing, not
 * delivered), 2 a usage mistake (arguments, stream file, URI); nothing is sent after a usage mistake. This is
 * the program and its global options; each subcommand is a module of commands/.
 */
import { Command, CommanderError } from 'commander';
import { kafkaUriSyntax } from '../kafka/uri.js';
import { packageVersion } from '../util/package-version.js';
import { EPICS_PROTOCOLS } from '../model/protocol.js';
import { OUTPUT_SCHEMA_NAMES } from '../model/stream.js';
import { registerAddAndReplace } from './commands/add-replace.js';
import { type CtlIo, PROGRAM_NAME } from './commands/common.js';
import { registerRemoveAll } from './commands/remove-all.js';
import { registerRemove } from './commands/remove.js';
import { registerStatus } from './commands/status.js';
import { registerStored } from './commands/stored.js';
import { registerTail } from './commands/tail.js';
import { CtlError, UsageError } from './errors.js';
import { BROKER_ENV, DEFAULT_TIMEOUT_S, SASL_PASSWORD_ENV, SASL_PASSWORD_FILE_ENV } from './kafka-access.js';

export type { CtlIo };

const helpWidth = 100;

export async function runCtl(argv: readonly string[], io: CtlIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError || error instanceof CtlError) {
      const lines = error.message.split('\n').map((line) => `${PROGRAM_NAME}: ${line}\n`);
      io.stderr(lines.join(''));
      return error instanceof UsageError ? 2 : 1;
    }
    throw error;
  }
}

function buildProgram(io: CtlIo): Command {
  const program = new Command(PROGRAM_NAME)
    .description('Controls and inspects ESS forwarders through Kafka.')
    .version(packageVersion, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'print help and exit')
    .addHelpCommand(false)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`${PROGRAM_NAME}: ${text.replace(/^error: /, '')}`),
      getOutHelpWidth: () => helpWidth,
      getErrHelpWidth: () => helpWidth,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .option(
      '-b, --broker <uri>',
      `Kafka URI (see below); its /topic is the topic the command works on [${BROKER_ENV}]`,
    )
    .option('--sasl-password <password>', `SASL password for --broker [${SASL_PASSWORD_ENV}]`)
    .option(
      '--sasl-password-file <file>',
      `file holding the SASL password, less one trailing line break [${SASL_PASSWORD_FILE_ENV}]`,
    )
    .option('--ssl-ca-cert-file <file>', 'CA certificate file (PEM) for SSL and SASL_SSL')
    .option(
      '--ssl-certificate-file <file>',
      'client certificate file (PEM) for mutual TLS; needs --ssl-key-file',
    )
    .option('--ssl-key-file <file>', 'client private key file (PEM) for mutual TLS')
    .option('--ssl-key-password <password>', 'password of --ssl-key-file')
    .option('--ssl-key-password-file <file>', 'file holding the password of --ssl-key-file')
    .option(
      '--kafka-config <key=value>',
      'extra librdkafka property, overriding the others; repeatable, several separated by ";"',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--timeout <s>', `bound on connecting to Kafka and on delivery (default: ${DEFAULT_TIMEOUT_S})`)
    .addHelpText('after', helpEpilogue());

  // In the order the help lists them.
  registerAddAndReplace(program, io);
  registerRemove(program, io);
  registerRemoveAll(program, io);
  registerStatus(program, io);
  registerStored(program, io);
  registerTail(program, io);
  return program;
}

function helpEpilogue(): string {
  return [
    '',
    'Streams on the command line: PV PROTOCOL TOPIC SCHEMA, e.g.',
    `  ${PROGRAM_NAME} -b localhost:9092/forwarder_commands add SIM:T1 ca motion f144 SIM:T2 pva motion f144`,
    `PROTOCOL is one of ${EPICS_PROTOCOLS.join(', ')}; SCHEMA one of ${OUTPUT_SCHEMA_NAMES.join(', ')}.`,
    '',
    `Kafka URI: ${kafkaUriSyntax}`,
    '  as forwarder-launch takes it; the port defaults to 9092. PROTOCOL is PLAINTEXT (the default), SSL,',
    '  SASL_PLAINTEXT or SASL_SSL; MECHANISM is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.',
    '',
    'Exit codes: 0 done, 1 the operation failed (Kafka unreachable, topic missing, ...), 2 usage mistake.',
  ].join('\n');
}
