/**
 * Secured Kafka end to end: every client of the forwarder (config consumer, status, storage, output) over
 * SASL_SSL with SCRAM-SHA-512, and over SSL with a client certificate whose key is encrypted (mutual TLS); a
 * fake stream forwarded through each. A wrong password is reported with the broker's reason while the forwarder
 * keeps trying, and a SIGTERM still stops it cleanly; a wrong key password stops the launch. No password reaches
 * the log. (The test broker requests client certificates without requiring them, so the mutual TLS case shows
 * the certificate options wired and the encrypted key loaded, not the broker's verdict on the certificate.)
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForwarderProcess, stoppedInStartUp } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { testBroker } from '../../support/kafka.js';
import {
  assertForwards,
  launchToExit,
  onlyOptionVariables,
  saslPasswordVariables,
  type Security,
  securedArguments,
} from './launch.js';

const overSasl = ForwarderWorld.setUp({ ioc: false });
const overMutualTls = ForwarderWorld.setUp({ ioc: false });
const refused = ForwarderWorld.setUp({ ioc: false });

const KEY_PASSWORD = 'key-password-never-logged';
const WRONG_PASSWORD = 'wrong-password-never-logged';
let dir: string;
let encryptedKeyFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ekf-security-'));
  // The test client key, encrypted, so that --ssl-key-password is needed and the key is shown to be loaded.
  encryptedKeyFile = join(dir, 'client-encrypted.key');
  const key = createPrivateKey(readFileSync((await testBroker()).clientKeyFile));
  writeFileSync(
    encryptedKeyFile,
    key.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: KEY_PASSWORD }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const overScram: Security = { listener: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', user: 'alice' };
const overSsl: Security = { listener: 'SSL' };

function assertNoSecrets(output: string, secrets: readonly string[]): void {
  for (const secret of secrets) assert.ok(!output.includes(secret), `"${secret}" appears in the log`);
}

describe('secured Kafka connections', { concurrency: 4 }, () => {
  it('forwards with every client on SASL_SSL (SCRAM-SHA-512)', async () => {
    const world = overSasl;
    const password = world.broker.users['alice'] ?? '';
    const forwarder = await world.startForwarder(
      securedArguments(world, overScram),
      onlyOptionVariables(saslPasswordVariables(password)),
    );
    await assertForwards(world, 'FAKE:OVER:SASL');
    const { code } = await forwarder.stop('SIGTERM');
    assert.equal(code, 0);
    assertNoSecrets(forwarder.output, [password]);
  });

  it('forwards with every client on SSL with a client certificate (mutual TLS)', async () => {
    const world = overMutualTls;
    const forwarder = await world.startForwarder(
      [
        ...securedArguments(world, overSsl),
        '--ssl-certificate-file',
        world.broker.clientCertFile,
        '--ssl-key-file',
        encryptedKeyFile,
      ],
      onlyOptionVariables({ SSL_KEY_PASSWORD: KEY_PASSWORD }),
    );
    await assertForwards(world, 'FAKE:OVER:MTLS');
    const { code } = await forwarder.stop('SIGTERM');
    assert.equal(code, 0);
    assertNoSecrets(forwarder.output, [KEY_PASSWORD]);
  });

  it('refuses a wrong key password at start-up (exit code 2), without showing it', async () => {
    const world = overMutualTls;
    const result = await launchToExit(
      [
        ...securedArguments(world, overSsl),
        '--ssl-certificate-file',
        world.broker.clientCertFile,
        '--ssl-key-file',
        encryptedKeyFile,
      ],
      { SSL_KEY_PASSWORD: WRONG_PASSWORD },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /ERROR Fatal error: Kafka output producer: invalid client configuration: ssl\.key\.location failed/,
    );
    assertNoSecrets(result.stdout + result.stderr, [WRONG_PASSWORD]);
  });

  it('reports a wrong password with the broker reason, keeps trying, and stops cleanly', async () => {
    const world = refused;
    const password = world.broker.users['alice'] ?? '';
    const forwarder = ForwarderProcess.start(
      securedArguments(world, overScram),
      onlyOptionVariables(saslPasswordVariables(password, WRONG_PASSWORD)),
    );
    world.forwarders.push(forwarder);
    await forwarder.waitForOutput(
      /ERROR Kafka output producer: .*SASL authentication error: Authentication failed .*invalid credentials/,
    );
    await forwarder.waitForOutput(/ERROR Kafka output producer: could not connect \(attempt 1\)/);
    assert.equal(forwarder.child.exitCode, null, 'still running, trying again');
    const stopping = Date.now();
    assert.ok(stoppedInStartUp(await forwarder.stop('SIGTERM')), forwarder.output);
    assert.ok(Date.now() - stopping < 2_000, `stopped within ${Date.now() - stopping} ms`);
    assert.doesNotMatch(forwarder.output, /Fatal error|\n\s+at /);
    assertNoSecrets(forwarder.output, [password, WRONG_PASSWORD]);
  });
});
