import type { Logger } from '../../src/logging/logger.js';
import type { PvUpdate } from '../../src/model/update.js';
import { ListenerRecorder } from './listener-recorder.js';
import { runPythonCode } from './python.js';

/** The CA tests' listener: waits take the time-out before what is waited for. */
export class Recorder extends ListenerRecorder {
  /** Resolves once `condition` holds (checked after every callback), rejects after `timeoutMs`. */
  async waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    await this.until(condition, what, timeoutMs);
  }

  /** Waits for the n-th update (1-based) and returns it. */
  async update(n = 1, timeoutMs = 10_000): Promise<PvUpdate> {
    await this.until(() => this.updates.length >= n, `update #${n}`, timeoutMs);
    return this.updates[n - 1] as PvUpdate;
  }

  /** Waits for an update satisfying `predicate`, looking at updates from index `from` on. */
  async updateMatching(
    predicate: (update: PvUpdate) => boolean,
    from = 0,
    timeoutMs = 10_000,
  ): Promise<PvUpdate> {
    return this.untilUpdate(predicate, 'a matching update', from, timeoutMs);
  }
}

/** A logger that keeps what it is told, for assertions. */
export class RecordingLogger implements Logger {
  readonly entries: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
  error(message: string, meta?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, meta });
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, meta });
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, meta });
  }
  debug(): void {
    // Debug output is too chatty to keep.
  }
  errors(): string[] {
    return this.entries.filter((entry) => entry.level === 'error').map((entry) => entry.message);
  }
}

/**
 * Writes values with caproto's client, one after another with `pauseS` between them, in a single Python
 * process. Values are JSON: numbers, strings or arrays.
 */
export async function caPut(
  env: Record<string, string>,
  puts: readonly (readonly [string, unknown])[],
  pauseS = 0.2,
): Promise<void> {
  const code = `
import json, sys, time
from caproto.threading.client import Context
puts = json.loads(sys.stdin.read())
context = Context()
pvs = dict(zip([name for name, _ in puts], context.get_pvs(*[name for name, _ in puts], timeout=10)))
for name, value in puts:
    pvs[name].write(value, wait=True, timeout=10)
    time.sleep(${pauseS})
`;
  await runPythonCode(code, {
    env,
    input: JSON.stringify(puts),
    timeoutMs: 30_000 + puts.length * pauseS * 1000,
  });
}

/** Reads PVs with caproto's client in a single Python process; resolves with their values by name. */
export async function caGet(
  env: Record<string, string>,
  names: readonly string[],
): Promise<Map<string, unknown>> {
  const code = `
import json, sys
from caproto.threading.client import Context
names = json.loads(sys.stdin.read())
pvs = Context().get_pvs(*names, timeout=10)
values = [pv.read(timeout=10).data.tolist() for pv in pvs]
print(json.dumps([[name, value[0] if len(value) == 1 else value] for name, value in zip(names, values)]))
`;
  const { stdout } = await runPythonCode(code, {
    env,
    input: JSON.stringify(names),
    timeoutMs: 30_000 + names.length * 20,
  });
  return new Map(JSON.parse(stdout) as [string, unknown][]);
}
