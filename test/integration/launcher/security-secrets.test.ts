/**
 * No password leaves the forwarder, wherever one could: with SASL passwords from a file and from the
 * environment and a key password, at Trace verbosity, with errors provoked (a junk config message; a wrong SASL
 * password, so that authentication failures are logged; launches that fail), everything the forwarder shows is
 * collected and searched for every password: the log file, stdout and stderr, /status.json, /metrics, /healthz
 * and the status page, the x5f2 status messages, the stored stream set and the data on their topics, and the
 * output of failed launches. The process's command line (what ps shows every user) holds no password either
 * when they come from files and the environment; given on the command line, a password earns a warning. The
 * HTTP listener given a port alone listens on loopback only.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ForwarderProcess, stoppedInStartUp } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { testBroker } from '../../support/kafka.js';
import { freePort } from '../../support/ports.js';
import { httpGet } from '../operability/scrape.js';
import { assertForwards, launchToExit, onlyOptionVariables, type Security, securedUri } from './launch.js';

const healthy = ForwarderWorld.setUp({ ioc: false });
const refused = ForwarderWorld.setUp({ ioc: false });

const KEY_PASSWORD = 'secrets-key-password';
const WRONG_PASSWORD = 'secrets-wrong-password';
const alice: Security = { listener: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', user: 'alice' };
const bob: Security = { listener: 'SASL_SSL', mechanism: 'SCRAM-SHA-256', user: 'bob' };

let dir: string;
let encryptedKeyFile: string;
/** Every password in play: the users' real ones, the key password and the wrong one. */
let secrets: string[];

before(async () => {
  const broker = await testBroker();
  dir = mkdtempSync(join(tmpdir(), 'ekf-security-secrets-'));
  encryptedKeyFile = join(dir, 'client-encrypted.key');
  const key = createPrivateKey(readFileSync(broker.clientKeyFile));
  writeFileSync(
    encryptedKeyFile,
    key.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: KEY_PASSWORD }),
  );
  secrets = [password('alice'), password('bob'), KEY_PASSWORD, WRONG_PASSWORD];
  for (const secret of secrets) assert.ok(secret.length >= 8, 'distinctive enough to search for');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function password(user: 'alice' | 'bob'): string {
  const secret = healthy.broker.users[user];
  assert.ok(secret !== undefined);
  return secret;
}

function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${content}\n`, { mode: 0o600 });
  return path;
}

/**
 * Config topic and output broker as alice, with passwords from files; status and storage topics as bob, with
 * passwords from the environment; a client certificate whose key is encrypted, its password from the
 * environment. Logs at Trace to a file.
 */
function launch(world: ForwarderWorld, name: string, extra: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const logFile = join(dir, `${name}.log`);
  const args = [
    '--config-topic',
    securedUri(world, alice, world.topics.config),
    '--config-topic-sasl-password-file',
    secretFile(`${name}-config-password`, password('alice')),
    '--status-topic',
    securedUri(world, bob, world.topics.status),
    '--output-broker',
    securedUri(world, alice),
    '--storage-topic',
    securedUri(world, bob, world.topics.storage),
    '--ssl-ca-cert-file',
    world.broker.caFile,
    '--ssl-certificate-file',
    world.broker.clientCertFile,
    '--ssl-key-file',
    encryptedKeyFile,
    '--log-file',
    logFile,
    '--verbosity',
    'Trace',
    '--status-interval',
    '500',
    '--fake-pv-period',
    '100',
    '--metrics-per-pv',
    ...extra,
  ];
  const forwarder = ForwarderProcess.start(
    args,
    onlyOptionVariables({
      STATUS_TOPIC_SASL_PASSWORD: password('bob'),
      STORAGE_TOPIC_SASL_PASSWORD: password('bob'),
      SSL_KEY_PASSWORD: KEY_PASSWORD,
      ...env,
    }),
  );
  world.forwarders.push(forwarder);
  return { forwarder, logFile };
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function waitForLog(path: string, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(readLog(path))) {
    if (Date.now() > deadline)
      throw new Error(`${pattern} not in ${path} within ${timeoutMs} ms:\n${readLog(path)}`);
    await sleep(100);
  }
}

/** Everything the HTTP listener serves, by path. */
async function scrapeAll(port: number): Promise<Map<string, string>> {
  const pages = new Map<string, string>();
  for (const path of ['/', '/status.json', '/metrics', '/healthz']) {
    const reply = await httpGet(`http://127.0.0.1:${port}${path}`);
    assert.ok(reply.body.length > 0, `${path} answered`);
    pages.set(`HTTP ${path}`, reply.body);
  }
  return pages;
}

/** The command line as ps shows it: /proc/<pid>/cmdline, arguments separated by NULs. */
function commandLine(forwarder: ForwarderProcess): string {
  return readFileSync(`/proc/${forwarder.child.pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
}

/** Every message on the topic, bytes as latin1 so that any embedded text can be searched. */
function topicText(world: ForwarderWorld, topic: string): string {
  return world.reader
    .of(topic)
    .map((message) => `${message.key ?? ''} ${message.payload.toString('latin1')}`)
    .join('\n');
}

function assertNoSecrets(artefacts: ReadonlyMap<string, string>): void {
  for (const [what, text] of artefacts) {
    for (const secret of secrets) assert.ok(!text.includes(secret), `a password appears in ${what}`);
  }
}

/** The local addresses a TCP socket listens on for `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes). */
function listeningAddresses(port: number): string[] {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // local_address is "ADDRESS:PORT"; state 0A is LISTEN.
      .filter((fields) => fields[1]?.endsWith(`:${portHex}`) && fields[3] === '0A')
      .map((fields) => fields[1]?.split(':')[0] ?? ''),
  );
}

describe('passwords never leave the forwarder', { concurrency: 3 }, () => {
  it('a working forwarder: log, HTTP, status, storage and data hold no password, nor does its command line', async () => {
    const world = healthy;
    const port = await freePort();
    const { forwarder, logFile } = launch(world, 'healthy', [
      '--output-broker-sasl-password-file',
      secretFile('healthy-output-password', password('alice')),
      '--http-address',
      String(port),
    ]);
    await waitForLog(logFile, /Listening for commands/);
    await assertForwards(world, 'FAKE:SECRETS');
    await world.sendCommand(Buffer.from(`junk that is no command at all`));
    await waitForLog(logFile, /Ignoring config message/);

    assert.deepEqual(listeningAddresses(port), ['0100007F'], 'the port alone listens on 127.0.0.1 only');
    const artefacts = await scrapeAll(port);
    assert.match(artefacts.get('HTTP /metrics') ?? '', /FAKE:SECRETS/);
    artefacts.set('command line', commandLine(forwarder));
    const { code } = await forwarder.stop('SIGTERM');
    assert.equal(code, 0);

    const log = readLog(logFile);
    assert.doesNotMatch(log, /given on the command line/, 'no warning: no password on the command line');
    artefacts.set('log file', log);
    artefacts.set('stdout and stderr', forwarder.output);
    artefacts.set('status topic', topicText(world, world.topics.status));
    artefacts.set('storage topic', topicText(world, world.topics.storage));
    artefacts.set('data topic', topicText(world, world.topics.data));
    assert.ok(world.reader.of(world.topics.status).length > 0, 'status messages read');
    assertNoSecrets(artefacts);
  });

  it('a forwarder refused by the broker: authentication errors are logged without the password', async () => {
    const world = refused;
    const port = await freePort();
    const { forwarder, logFile } = launch(world, 'refused', [
      // On the command line on purpose: the warning must name the option but not the value.
      '--output-broker-sasl-password',
      WRONG_PASSWORD,
      '--http-address',
      `127.0.0.1:${port}`,
    ]);
    await waitForLog(
      logFile,
      /ERROR Kafka output producer: .*SASL authentication error: Authentication failed .*invalid credentials/,
    );
    const log = readLog(logFile);
    assert.match(
      log,
      /WARN --output-broker-sasl-password given on the command line, where ps shows it to every user of this host: use OUTPUT_BROKER_SASL_PASSWORD or --output-broker-sasl-password-file instead/,
    );
    // The other side of the warning, and a check that the command line is read as ps reads it.
    assert.ok(
      commandLine(forwarder).includes(WRONG_PASSWORD),
      'ps shows a password given on the command line',
    );
    const artefacts = await scrapeAll(port);
    assert.match(artefacts.get('HTTP /healthz') ?? '', /"starting"/);
    assert.ok(stoppedInStartUp(await forwarder.stop('SIGTERM')), forwarder.output);
    artefacts.set('log file', readLog(logFile));
    artefacts.set('stdout and stderr', forwarder.output);
    assertNoSecrets(artefacts);
  });

  it('launches that fail: the messages hold no password', async () => {
    const world = healthy;
    const common = [
      '--config-topic',
      securedUri(world, alice, world.topics.config),
      '--status-topic',
      securedUri(world, alice, world.topics.status),
      '--output-broker',
      securedUri(world, alice),
      '--ssl-ca-cert-file',
      world.broker.caFile,
    ];
    const everyPassword = {
      CONFIG_TOPIC_SASL_PASSWORD: password('alice'),
      STATUS_TOPIC_SASL_PASSWORD: password('alice'),
    };
    const outputFile = secretFile('launch-output-password', password('bob'));
    writeFileSync(join(dir, 'empty-password'), '');
    const launches = {
      'password and password file': launchToExit(
        [...common, '--output-broker-sasl-password-file', outputFile],
        { ...everyPassword, OUTPUT_BROKER_SASL_PASSWORD: password('bob') },
      ),
      'empty password file': launchToExit(
        [...common, '--output-broker-sasl-password-file', join(dir, 'empty-password')],
        everyPassword,
      ),
      'password file where SASL is off': launchToExit(
        [
          ...common,
          '--output-broker',
          world.broker.listeners.PLAINTEXT,
          '--output-broker-sasl-password-file',
          outputFile,
        ],
        everyPassword,
      ),
      'wrong key password from a file': launchToExit(
        [
          ...common,
          '--output-broker-sasl-password-file',
          outputFile,
          '--ssl-certificate-file',
          world.broker.clientCertFile,
          '--ssl-key-file',
          encryptedKeyFile,
          '--ssl-key-password-file',
          secretFile('launch-wrong-key-password', WRONG_PASSWORD),
        ],
        everyPassword,
      ),
    };
    const artefacts = new Map<string, string>();
    for (const [what, result] of Object.entries(launches)) {
      const { code, stdout, stderr } = await result;
      assert.equal(code, 2, `${what}: ${stderr}`);
      assert.ok(stderr.length > 0, `${what} says why`);
      artefacts.set(`the launch with ${what}`, stdout + stderr);
    }
    assert.match(
      artefacts.get('the launch with password and password file') ?? '',
      /--output-broker-sasl-password and --output-broker-sasl-password-file are both set: give one of them/,
    );
    assert.match(artefacts.get('the launch with empty password file') ?? '', /is empty/);
    assert.match(
      artefacts.get('the launch with wrong key password from a file') ?? '',
      /Fatal error: Kafka output producer: invalid client configuration: ssl\.key\.location failed/,
    );
    assertNoSecrets(artefacts);
  });
});
