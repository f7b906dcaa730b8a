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

  // Decoded messages of every protocol: "<time>  f144  DEMO:sine  <value> (float64)".
  for (const [pv, type] of [
    ['DEMO:sine', 'float64'],
    ['DEMO:counter', 'float64'],
    ['DEMO:FAKE:1', 'int32'],
  ] as const) {
    assert.match(
      output,
      new RegExp(`^  \\d\\d:\\d\\d:\\d\\d\\.\\d{3}  f144  ${pv} +-?[0-9.e+-]+ \\(${type}\\)$`, 'm'),
      pv,
    );
  }
  assert.match(output, /^ {2}\S+ {2}f142 {2}DEMO:stringin +"[0-9.]+" \(string\)/m);
  assert.match(output, /^ {2}\S+ {2}ep01 {2}DEMO:hist +\{"status":"CONNECTED"\}$/m);
  // The image stream: 64 x 48 frames, their data shown by its size.
  assert.match(
    output,
    /^ {2}\S+ {2}ad00 {2}\S+image +\{"uniqueId":\d+,"dimensions":\["48","64"\],"dataType":"uint16","data":"6144 bytes"/m,
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
