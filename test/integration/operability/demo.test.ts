/**
 * The demo (`npm run demo`, scripts/demo.ts) run for a short time: it forwards CA, PVA and fake streams and an
 * image stream (ad00) added with forwarder-ctl, shows them decoded, prints the status and the status page's address, and cleans up.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../../support/paths.js';

it('forwards, decodes, reports and cleans up in a 10 s run', { timeout: 150_000 }, async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'scripts', 'demo.ts'), '--duration', '10'],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), 140_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  assert.equal(code, 0, output);

  // Decoded messages of every protocol, as `forwarder-ctl tail --format text` prints them:
  // "<local date and time>  f144  DEMO:sine  <value>".
  const time = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}';
  for (const pv of ['DEMO:sine', 'DEMO:counter', 'DEMO:FAKE:1']) {
    assert.match(output, new RegExp(`^  ${time}  f144  ${pv}  -?[0-9.e+-]+$`, 'm'), pv);
  }
  assert.match(output, new RegExp(`^  ${time}  f142  DEMO:stringin  "[0-9.]+"`, 'm'));
  assert.match(output, new RegExp(`^  ${time}  ep01  DEMO:hist  connection CONNECTED$`, 'm'));
  // The image stream: 64 x 48 frames, their data shown by its size.
  assert.match(
    output,
    new RegExp(`^  ${time}  ad00  \\S+image  image 48×64 uint16, frame \\d+, 6144 bytes$`, 'm'),
  );
  assert.match(output, /^Sent ADD of 7 streams to /m);
  // forwarder-ctl status lists the streams, connected.
  assert.match(output, /^demo on .*running.* 7 streams$/m);
  assert.match(output, /^ {2}DEMO:counter +PVA +\S+ +f144 +no +connected$/m);
  assert.match(output, /^ {2}\S+image +PVA +\S+ +ad00 +no +connected$/m);
  assert.match(output, /^Status page: +http:\/\/127\.0\.0\.1:\d+\/$/m);
  // Cleaned up: its working directory (config file, forwarder log) is gone.
  const log = /Forwarder log: (\S+)/.exec(output)?.[1];
  assert.ok(log !== undefined);
  assert.ok(!existsSync(log), `${log} left behind`);
  assert.match(output, /== Cleaning up\nDone\.\n$/);
});
