/**
 * The installed commands as the README shows them: `bin/forwarder-launch` and `bin/forwarder-ctl` run the
 * compiled build (`npm run build`, which setup runs) with this Node.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { packageVersion } from '../../../src/util/package-version.js';
import { repoRoot } from '../../support/paths.js';

const run = promisify(execFile);

describe('bin/ commands from the build', () => {
  it('forwarder-launch --version prints the package version', async () => {
    const { stdout } = await run(process.execPath, [join(repoRoot, 'bin', 'forwarder-launch'), '--version']);
    assert.equal(stdout.trim(), packageVersion);
  });

  it('forwarder-launch runs by itself, with the Node options of its #! line', async () => {
    const { stdout } = await run(join(repoRoot, 'bin', 'forwarder-launch'), ['--version']);
    assert.equal(stdout.trim(), packageVersion);
  });

  it('forwarder-ctl --help lists its commands', async () => {
    const { stdout } = await run(process.execPath, [join(repoRoot, 'bin', 'forwarder-ctl'), '--help']);
    for (const command of ['add', 'remove', 'remove-all', 'replace', 'status', 'stored', 'tail']) {
      assert.match(stdout, new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });
});
