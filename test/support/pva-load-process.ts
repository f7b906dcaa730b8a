/**
 * One of the benchmarks' fake PVA load servers (pva-flood-server.ts, pva-stream-server.ts) in its own process, so
 * that it does not share the measured process's core: it answers searches on a free port for COUNT NTScalar
 * doubles named PREFIX + index.
 */
import { join } from 'node:path';
import { type LineChild, startLineChild } from './line-child.js';
import { repoRoot } from './paths.js';
import { freePort } from './ports.js';

export interface PvaLoadProcess {
  readonly server: LineChild;
  /** EPICS_PVA_* variables that make a client find the server, and nothing else. */
  readonly clientEnv: Record<string, string>;
  readonly names: string[];
}

/**
 * Starts `script` (a file in test/support) and resolves once it is READY; `what` names it in errors, `extra` are
 * further arguments (pva-stream-server.ts's KIND).
 */
export async function startPvaLoadProcess(
  script: 'pva-flood-server.ts' | 'pva-stream-server.ts',
  what: string,
  count: number,
  prefix: string,
  extra: readonly string[] = [],
): Promise<PvaLoadProcess> {
  const searchPort = await freePort();
  const server = await startLineChild(join(repoRoot, 'test', 'support', script), [
    String(searchPort),
    String(count),
    prefix,
    ...extra,
  ]);
  if (!server.ready.startsWith('READY')) {
    server.close();
    throw new Error(`${what}: ${server.ready}`);
  }
  return {
    server,
    clientEnv: { EPICS_PVA_AUTO_ADDR_LIST: 'NO', EPICS_PVA_ADDR_LIST: `127.0.0.1:${searchPort}` },
    names: Array.from({ length: count }, (_, i) => `${prefix}${i}`),
  };
}
