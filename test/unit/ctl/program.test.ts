import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CtlIo, runCtl } from '../../../src/ctl/program.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  questions: string[];
}

/**
 * Runs the tool in-process. Nothing here reaches Kafka: commands that would connect use a port nobody listens
 * on, so an unexpected connection attempt shows as exit code 1 instead of 2.
 */
async function run(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; answer?: boolean | undefined } = {},
): Promise<Run> {
  const result: Run = { code: -1, stdout: '', stderr: '', questions: [] };
  const io: CtlIo = {
    env: options.env ?? {},
    stdout: (text) => (result.stdout += text),
    stdoutDrained: async () => undefined,
    stderr: (text) => (result.stderr += text),
    stdoutIsTTY: false,
    confirm:
      options.answer === undefined
        ? undefined
        : async (question) => {
            result.questions.push(question);
            return options.answer ?? false;
          },
    interrupted: () => new AbortController().signal,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
  };
  result.code = await runCtl(argv, io);
  return result;
}

const nowhere = '127.0.0.1:1/commands';

const decodedLines = (stdout: string): unknown[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('forwarder-ctl arguments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctl-program-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints help and version', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: forwarder-ctl/);
    assert.match(help.stdout, /--broker <uri>/);
    assert.match((await run(['add', '--help'])).stdout, /PV PROTOCOL TOPIC SCHEMA/);
    const version = await run(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it('refuses unknown commands and options with exit code 2', async () => {
    const command = await run(['ad']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /^forwarder-ctl: unknown command 'ad'/);
    assert.match(command.stderr, /Did you mean add\?/);
    const option = await run(['add', '--periodik', 'A', 'ca', 't', 'f144']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--periodik'/);
  });

  it('prints the commands of --dry-run without needing a broker', async () => {
    const add = await run([
      'add',
      '--dry-run',
      '--periodic',
      'SIM:A',
      'ca',
      'motion',
      'f144',
      'SIM:B',
      'fake',
      't',
      'f142',
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual(decodedLines(add.stdout), [
      {
        schema: 'fc00',
        message: {
          configChange: 'ADD',
          streams: [
            { channel: 'SIM:A', schema: 'f144', topic: 'motion', protocol: 'CA', periodic: 1 },
            { channel: 'SIM:B', schema: 'f142', topic: 't', protocol: 'FAKE', periodic: 1 },
          ],
        },
      },
    ]);
    const remove = await run(['remove', '--dry-run', 'SIM:*', 'OTHER:?', '--topic', 'mo*']);
    assert.deepEqual(decodedLines(remove.stdout), [
      {
        schema: 'fc00',
        message: {
          configChange: 'REMOVE',
          streams: [
            { channel: 'SIM:*', schema: '', topic: 'mo*', protocol: 'PVA', periodic: 0 },
            { channel: 'OTHER:?', schema: '', topic: 'mo*', protocol: 'PVA', periodic: 0 },
          ],
        },
      },
    ]);
    const bySchema = await run(['remove', '--dry-run', '--schema', 'f142']);
    assert.deepEqual(decodedLines(bySchema.stdout), [
      {
        schema: 'fc00',
        message: {
          configChange: 'REMOVE',
          streams: [{ channel: '', schema: 'f142', topic: '', protocol: 'PVA', periodic: 0 }],
        },
      },
    ]);
    assert.deepEqual(decodedLines((await run(['remove-all', '--dry-run'])).stdout), [
      { schema: 'fc00', message: { configChange: 'REMOVEALL', streams: [] } },
    ]);
  });

  it('combines argument streams with a file, the file saying periodic per stream', async () => {
    const file = join(dir, 'streams.csv');
    writeFileSync(file, 'pv,protocol,topic,schema,periodic\nFILE:A,pva,t,f144,\nFILE:B,pva,t,f144,yes\n');
    const replace = await run(['replace', '--dry-run', 'ARG:A', 'ca', 't', 'f144', '--file', file]);
    assert.equal(replace.code, 0, replace.stderr);
    const [message] = decodedLines(replace.stdout) as {
      message: { configChange: string; streams: { channel: string; periodic: number }[] };
    }[];
    assert.equal(message?.message.configChange, 'REPLACE');
    assert.deepEqual(
      message?.message.streams.map((stream) => [stream.channel, stream.periodic]),
      [
        ['ARG:A', 0],
        ['FILE:A', 0],
        ['FILE:B', 1],
      ],
    );
  });

  it('refuses bad streams before connecting, one line per problem', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify([
        { pv: 'OK', protocol: 'ca', topic: 't', schema: 'f144' },
        { pv: 'X', protocol: 'ca', topic: 't', schema: 'nttable_se00' },
      ]),
    );
    const result = await run(['-b', nowhere, 'add', 'A', 'epics', 't', 'f144', '--file', file]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trim().split('\n'), [
      "forwarder-ctl: stream 1 of the arguments: unknown protocol 'epics' (expected one of ca, pva, fake)",
      `forwarder-ctl: ${file} stream 2: stream name='X', topic='t', schema='nttable_se00': schema 'nttable_se00' is not available for protocol ca: it needs an NTTable, which only pvAccess serves`,
    ]);
    assert.equal((await run(['-b', nowhere, 'add'])).stderr, 'forwarder-ctl: add: no streams given\n');
    assert.equal((await run(['-b', nowhere, 'remove'])).stderr, 'forwarder-ctl: remove: no streams given\n');
    const format = await run(['-b', nowhere, 'add', '--file', file, '--format', 'xml']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /argument 'xml' is invalid. Allowed choices are json, yaml, csv/);
  });

  it('refuses bad Kafka options with one line naming the option', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [
        ['add', 'A', 'ca', 't', 'f144'],
        {},
        /^forwarder-ctl: no broker: give --broker host:port\[\/topic\] \(or set FORWARDER_CTL_BROKER\)\n$/,
      ],
      [
        ['-b', 'host:99999/t', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /^forwarder-ctl: --broker: broker "host:99999": port 99999 is not in 1\.\.65535\n$/,
      ],
      [
        ['add', 'A', 'ca', 't', 'f144'],
        { FORWARDER_CTL_BROKER: 'KERBEROS+host/t' },
        /--broker: unknown security protocol "KERBEROS"/,
      ],
      [
        ['-b', 'SASL_SSL+PLAIN\\alice@host/t', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /uses SASL_SSL \(PLAIN\) but no password was given: set --sasl-password or FORWARDER_CTL_SASL_PASSWORD/,
      ],
      [
        ['-b', nowhere, '--sasl-password', 'secret', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /a SASL password is set but --broker uses PLAINTEXT, not SASL/,
      ],
      [
        ['-b', nowhere, 'add', 'A', 'ca', 't', 'f144'],
        { FORWARDER_CTL_SASL_PASSWORD: 'secret' },
        /a SASL password is set but --broker uses PLAINTEXT/,
      ],
      [
        ['-b', nowhere, '--sasl-password-file', import.meta.filename, 'add', 'A', 'ca', 't', 'f144'],
        {},
        /a SASL password is set but --broker uses PLAINTEXT/,
      ],
      [
        ['-b', 'PLAIN\\alice@host/t', '--sasl-password', 'x', 'add', 'A', 'ca', 't', 'f144'],
        { FORWARDER_CTL_SASL_PASSWORD_FILE: import.meta.filename },
        /--sasl-password and --sasl-password-file are both set: give one of them/,
      ],
      [
        ['-b', 'PLAIN\\alice@host/t', '--sasl-password-file', '/no/such/file', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /--sasl-password-file: cannot read "\/no\/such\/file"/,
      ],
      [
        ['-b', nowhere, '--ssl-ca-cert-file', '/no/such/ca.pem', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /--ssl-ca-cert-file: cannot read "\/no\/such\/ca\.pem": no such file or directory/,
      ],
      [
        ['-b', nowhere, '--ssl-certificate-file', import.meta.filename, 'add', 'A', 'ca', 't', 'f144'],
        {},
        /--ssl-certificate-file and --ssl-key-file go together/,
      ],
      [
        ['-b', nowhere, '--kafka-config', 'linger.ms', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /--kafka-config: "linger\.ms" is not key=value/,
      ],
      [
        ['-b', nowhere, '--timeout', '0', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /--timeout: "0" is not a number of seconds above 0/,
      ],
      [
        ['-b', '127.0.0.1:1', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /no config topic: give it as host:port\/TOPIC in --broker/,
      ],
      [
        ['-b', '127.0.0.1:1', 'status', '--since', 'a while'],
        {},
        /--since: "a while" is not a number of seconds/,
      ],
      [['-b', '127.0.0.1:1', 'tail', 'data', '--max', '0'], {}, /--max: "0" is not a positive integer/],
      [
        ['-b', '127.0.0.1:1/__consumer_offsets', 'add', 'A', 'ca', 't', 'f144'],
        {},
        /config topic "__consumer_offsets" is reserved for Kafka's internal topics/,
      ],
      [['-b', nowhere, 'add', 'A', 'ca', '..', 'f144'], {}, /topic '\.\.' is not a valid topic name/],
      [
        ['-b', nowhere, 'add', 'A', 'ca', '__consumer_offsets', 'f144'],
        {},
        /topic '__consumer_offsets' is reserved for Kafka's internal topics/,
      ],
      [['-b', '127.0.0.1:1', 'status', '.'], {}, /status topic "\." is not a valid topic name/],
      [
        ['-b', '127.0.0.1:1', 'stored', '__consumer_offsets'],
        {},
        /storage topic "__consumer_offsets" is reserved/,
      ],
      [['-b', '127.0.0.1:1', 'tail', 'a/b'], {}, /topic to read "a\/b" may only contain letters/],
      [
        ['-b', '127.0.0.1:1', 'tail'],
        {},
        /no topic to read: give it as host:port\/TOPIC in --broker or as the TOPIC argument/,
      ],
    ];
    for (const [argv, env, pattern] of cases) {
      const result = await run(argv, { env });
      assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.doesNotMatch(result.stderr, /secret/);
    }
  });

  it('asks before remove-all on a terminal, and refuses without --yes elsewhere', async () => {
    const refused = await run(['-b', nowhere, 'remove-all']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr, 'forwarder-ctl: remove-all needs --yes when not run on a terminal\n');
    const declined = await run(['-b', nowhere, 'remove-all'], { answer: false });
    assert.equal(declined.code, 0);
    assert.deepEqual(declined.questions, [
      'Stop every stream of every forwarder listening on commands? [y/N] ',
    ]);
    assert.equal(declined.stderr, 'Nothing sent.\n');
    // Confirmed, it goes on to connect: the port nobody listens on makes that fail with exit code 1.
    const confirmed = await run(['-b', nowhere, '--timeout', '0.5', 'remove-all'], { answer: true });
    assert.equal(confirmed.code, 1);
    assert.match(confirmed.stderr, /^forwarder-ctl: cannot connect to Kafka at 127\.0\.0\.1:1 within 0\.5 s/);
  });
});
