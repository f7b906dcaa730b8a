/**
 * Test helpers around the pvAccess client: a listener that records what it receives and can wait for a
 * condition, and puts through p4p (the independent Python client).
 */
import { runPythonCode } from './python.js';
import type { PvUpdate } from '../../src/model/update.js';
import { ListenerRecorder } from './listener-recorder.js';

/** The PVA tests' listener: waits name what is waited for before the time-out. */
export class UpdateRecorder extends ListenerRecorder {
  /** Resolves once `condition` holds (checked now and after every event); rejects after the timeout. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await this.until(condition, what, timeoutMs);
  }

  /** Waits for an update (after the first `from` updates) matching the predicate and returns it. */
  async waitForUpdate(
    predicate: (update: PvUpdate) => boolean,
    what: string,
    from = 0,
    timeoutMs = 10_000,
  ): Promise<PvUpdate> {
    return this.untilUpdate(predicate, what, from, timeoutMs);
  }
}

/**
 * Puts values with p4p, one after the other with `delayMs` between them. Values are JSON (arrays become
 * lists, which p4p converts to the PV's array type).
 */
export async function p4pPut(
  env: Record<string, string>,
  puts: readonly (readonly [string, unknown])[],
  delayMs = 0,
): Promise<void> {
  const code = `
import json, sys, time
from p4p.client.thread import Context
ctx = Context('pva')
for name, value in json.load(sys.stdin):
    ctx.put(name, value, timeout=10)
    time.sleep(${delayMs / 1000})
ctx.close()
`;
  await runPythonCode(code, { env, input: JSON.stringify(puts), timeoutMs: 30_000 });
}

/** Renders a value for assertion messages (bigint and typed arrays included). */
export function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, (x) => show(x));
    if (v instanceof Map) return Object.fromEntries(v);
    return v;
  });
}
