import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * Hands every chunk the child writes (stdout and stderr) to `record`, which returns all output so far, and
 * resolves once that contains `marker`: how the test servers (broker, IOCs) say they are ready. Rejects, with
 * the output, when the child exits first or `timeoutMs` passes.
 */
export function untilOutput(
  child: ChildProcess,
  marker: string,
  what: string,
  timeoutMs: number,
  record: (chunk: string) => string,
): Promise<void> {
  return new Promise<void>((resolveReady, rejectReady) => {
    let output = '';
    const timer = setTimeout(
      () => rejectReady(new Error(`${what} did not start within ${timeoutMs / 1000} s:\n${output}`)),
      timeoutMs,
    );
    const onOutput = (chunk: Buffer): void => {
      output = record(chunk.toString());
      if (output.includes(marker)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectReady(new Error(`${what} exited with ${code} during start:\n${output}`));
    });
  });
}

/**
 * Sends `signal` to a child that still runs and resolves once it has exited; with `killAfterMs`, a child still
 * running by then gets SIGKILL.
 */
export async function signalAndWait(
  child: ChildProcess,
  signal: NodeJS.Signals,
  killAfterMs?: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}
