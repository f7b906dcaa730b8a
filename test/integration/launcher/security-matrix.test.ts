/**
 * Every way to secure the Kafka connections, end to end: for each case all four clients of one forwarder
 * (config consumer, status, storage and output producers) use one listener of the test broker, and a fake
 * stream added over the config topic must reach status, storage and the data topic. SASL_PLAINTEXT and SASL_SSL
 * with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; SSL without a client certificate and with one (its key encrypted,
 * the key password from a file). Passwords come from the environment in some cases and from the -file options
 * in the others. The cases run side by side, one forwarder each.
 *
 * Then TLS verification: a CA that did not sign the broker's certificate is refused with a certificate
 * verification error, and so is a connection without --ssl-ca-cert-file (the test broker's CA is in no system
 * store): verification is on unless someone turns it off. The forwarder keeps trying and stops cleanly.
 *
 * (The test broker requests client certificates without requiring them, so the client certificate case shows
 * the certificate options wired and the key decrypted, not the broker's verdict on the certificate.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForwarderProcess, stoppedInStartUp } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { testBroker } from '../../support/kafka.js';
import { assertForwards, onlyOptionVariables, type Security, securedArguments } from './launch.js';

interface MatrixCase {
  readonly security: Security;
  /** How the SASL passwords (and the key password) are given. */
  readonly passwords?: 'environment' | 'file';
  readonly clientCertificate?: true;
}

const matrix: readonly MatrixCase[] = [
  { security: { listener: 'SASL_PLAINTEXT', mechanism: 'PLAIN', user: 'alice' }, passwords: 'environment' },
  { security: { listener: 'SASL_PLAINTEXT', mechanism: 'SCRAM-SHA-256', user: 'bob' }, passwords: 'file' },
  { security: { listener: 'SASL_PLAINTEXT', mechanism: 'SCRAM-SHA-512', user: 'alice' }, passwords: 'file' },
  { security: { listener: 'SASL_SSL', mechanism: 'PLAIN', user: 'bob' }, passwords: 'file' },
  { security: { listener: 'SASL_SSL', mechanism: 'SCRAM-SHA-256', user: 'alice' }, passwords: 'environment' },
  { security: { listener: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', user: 'bob' }, passwords: 'environment' },
  { security: { listener: 'SSL' } },
  { security: { listener: 'SSL' }, clientCertificate: true, passwords: 'file' },
];

const worlds = matrix.map(() => ForwarderWorld.setUp({ ioc: false }));
/** For the verification cases, which never get as far as the topics. */
const unverified = ForwarderWorld.setUp({ ioc: false });

const KEY_PASSWORD = 'matrix-key-password';
const SASL_PASSWORD_OPTIONS = [
  'config-topic-sasl-password',
  'status-topic-sasl-password',
  'output-broker-sasl-password',
  'storage-topic-sasl-password',
] as const;

let dir: string;
let encryptedKeyFile: string;
let wrongCaFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ekf-security-matrix-'));
  encryptedKeyFile = join(dir, 'client-encrypted.key');
  const key = createPrivateKey(readFileSync((await testBroker()).clientKeyFile));
  writeFileSync(
    encryptedKeyFile,
    key.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: KEY_PASSWORD }),
  );
  // A self-signed CA of its own: valid, but it signed nothing the broker has.
  wrongCaFile = join(dir, 'wrong-ca.pem');
  const made = spawnSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=not-the-broker-ca'],
      ...['-keyout', join(dir, 'wrong-ca.key'), '-out', wrongCaFile],
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(made.status, 0, made.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A password file, readable by its owner only, ending in a line break as editors write them. */
function passwordFile(name: string, password: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${password}\n`, { mode: 0o600 });
  return path;
}

function caseName({ security, clientCertificate, passwords }: MatrixCase): string {
  const parts: string[] = [security.listener];
  if (security.listener === 'SSL')
    parts.push(clientCertificate ? 'with a client certificate' : 'without a client certificate');
  else parts.push(security.mechanism, `as ${security.user}`);
  if (passwords !== undefined)
    parts.push(`(passwords from ${passwords === 'file' ? 'files' : 'the environment'})`);
  return parts.join(' ');
}

/** The arguments and environment that give the case's secrets the case's way. */
function secrets(
  world: ForwarderWorld,
  index: number,
  matrixCase: MatrixCase,
): [string[], NodeJS.ProcessEnv] {
  const args: string[] = [];
  const env: NodeJS.ProcessEnv = {};
  const give = (long: string, password: string): void => {
    if (matrixCase.passwords === 'file')
      args.push(`--${long}-file`, passwordFile(`${index}-${long}`, password));
    else env[long.toUpperCase().replaceAll('-', '_')] = password;
  };
  const { security } = matrixCase;
  if (security.listener !== 'SSL') {
    const password = world.broker.users[security.user] ?? '';
    for (const long of SASL_PASSWORD_OPTIONS) give(long, password);
  }
  if (matrixCase.clientCertificate) {
    args.push('--ssl-certificate-file', world.broker.clientCertFile, '--ssl-key-file', encryptedKeyFile);
    give('ssl-key-password', KEY_PASSWORD);
  }
  return [args, env];
}

/** Starts a forwarder on the SSL listener without the broker's CA; it must refuse the broker's certificate. */
async function assertRefused(extra: readonly string[]): Promise<void> {
  const world = unverified;
  const args = securedArguments(world, { listener: 'SSL' });
  args.splice(args.indexOf('--ssl-ca-cert-file'), 2, ...extra);
  const forwarder = ForwarderProcess.start(args, onlyOptionVariables());
  world.forwarders.push(forwarder);
  // librdkafka words it "SSL handshake failed: ... certificate verify failed: broker certificate could not be
  // verified, ..." or, depending on where the handshake stops, as OpenSSL's own "error:0A000086:SSL
  // routines::certificate verify failed"; the rate limit then holds back the other wording for 30 s.
  await forwarder.waitForOutput(
    /ERROR Kafka output producer: ssl:\/\/[^ ]+: .*certificate verify failed/,
    30_000,
  );
  assert.equal(forwarder.child.exitCode, null, 'still running, trying again');
  const stopping = Date.now();
  assert.ok(stoppedInStartUp(await forwarder.stop('SIGTERM')), forwarder.output);
  assert.ok(Date.now() - stopping < 2_000, `stopped within ${Date.now() - stopping} ms`);
  assert.match(forwarder.output, /INFO Forwarder stopped/);
  assert.doesNotMatch(forwarder.output, /Listening for commands|Fatal error/);
}

// The cases run side by side: each is mostly waiting for Kafka and the forwarder's start.
describe('secured Kafka connections', { concurrency: matrix.length + 2 }, () => {
  for (const [index, matrixCase] of matrix.entries()) {
    it(`forwards over ${caseName(matrixCase)}`, async () => {
      const world = worlds[index] as ForwarderWorld;
      const [args, env] = secrets(world, index, matrixCase);
      const forwarder = await world.startForwarder(
        [...securedArguments(world, matrixCase.security), ...args],
        onlyOptionVariables(env),
      );
      await assertForwards(world, `FAKE:MATRIX:${index}`);
      const { code } = await forwarder.stop('SIGTERM');
      assert.equal(code, 0, forwarder.output);
      assert.doesNotMatch(forwarder.output, /given on the command line/, 'no password on the command line');
    });
  }

  it('refuses a broker certificate that the given CA did not sign', async () => {
    await assertRefused(['--ssl-ca-cert-file', wrongCaFile]);
  });

  it('verifies the broker certificate when no CA file is given (the broker CA is in no system store)', async () => {
    await assertRefused([]);
  });
});
