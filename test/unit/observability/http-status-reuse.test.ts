/**
 * /status.json is made again only when the last one is older than ten times what it cost to make (at most 1 s), so
 * open status pages cost the main thread a bounded share however many there are; a cheap document is always new.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../../src/logging/logger.js';
import { ObservabilityServer } from '../../../src/observability/http.js';
import type { StatusDocument } from '../../../src/observability/status-document.js';

let server: ObservabilityServer;
let made = 0;
let costMs = 0;

/** Spends `ms` of the thread, as making a large document does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

async function get(path: string, gzip = false): Promise<{ body: Buffer; encoding: string | undefined }> {
  const { host, port } = server.address;
  return new Promise((resolveGet, rejectGet) => {
    const outgoing = request(
      { host, port, path, headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} },
      (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () =>
          resolveGet({ body: Buffer.concat(chunks), encoding: reply.headers['content-encoding'] }),
        );
      },
    );
    outgoing.on('error', rejectGet);
    outgoing.end();
  });
}

async function madeNumber(gzip = false): Promise<number> {
  const { body, encoding } = await get('/status.json', gzip);
  assert.equal(encoding, gzip ? 'gzip' : undefined);
  const text = gzip ? (await import('node:zlib')).gunzipSync(body).toString() : body.toString();
  return (JSON.parse(text) as { made: number }).made;
}

describe('/status.json reuse', () => {
  before(async () => {
    server = await ObservabilityServer.start(
      { host: '127.0.0.1', port: 0 },
      {
        metrics: async () => '',
        health: async () => ({ healthy: true }) as never,
        status: async () => {
          busy(costMs);
          made++;
          // Large enough to be compressed.
          return { made, padding: 'x'.repeat(16_384) } as unknown as StatusDocument;
        },
      },
      silentLogger,
    );
  });
  after(() => server.close());

  it('makes a cheap document for every request', async () => {
    costMs = 0;
    const first = await madeNumber();
    // Well under the one second a costly document is kept, with room for a thread descheduled on a busy machine.
    await sleep(300);
    assert.equal(await madeNumber(), first + 1);
  });

  it('serves a costly one again, compressed once, for ten times its cost (at most 1 s)', async () => {
    costMs = 40;
    await sleep(20);
    const first = await madeNumber();
    const [plain, gzipped] = await Promise.all([madeNumber(), madeNumber(true)]);
    assert.deepEqual([plain, gzipped, await madeNumber(true)], [first, first, first], 'shared within 400 ms');
    await sleep(1_050);
    assert.equal(await madeNumber(), first + 1, 'made again after at most a second');
  });
});
