import { spawn } from 'node:child_process';
import { venvPython } from './paths.js';

export interface PythonResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a Python snippet (or `-m module ...`) in the test venv and resolves with its output; rejects with the
 * stderr when it exits non-zero or runs past the timeout. `input` is written to its stdin.
 */
export async function runPython(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<PythonResult> {
  const child = spawn(venvPython, args, {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolveRun, rejectRun) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', rejectRun);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
      if (code === 0) resolveRun(result);
      else rejectRun(new Error(`python ${args.join(' ')} exited ${code ?? signal}: ${result.stderr}`));
    });
  });
}

/** Runs a Python snippet in the test venv. */
export async function runPythonCode(
  code: string,
  options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<PythonResult> {
  return runPython(['-c', code], options);
}
