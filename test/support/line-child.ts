/**
 * A helper process driven line by line: a TypeScript script run through tsx that prints one line when ready and
 * answers each line written to its stdin with one line. Closing stdin asks it to exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { repoRoot } from './paths.js';

export interface LineChild {
  readonly child: ChildProcess;
  /** The first line the script printed. */
  readonly ready: string;
  /** Writes one line and resolves with the line that answers it. */
  request(line: string): Promise<string>;
  /** Closes stdin: the script exits. */
  close(): void;
}

export async function startLineChild(script: string, args: readonly string[]): Promise<LineChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: repoRoot,
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const nextLine = (): Promise<string> => new Promise((resolveLine) => pending.push(resolveLine));
  const ready = await nextLine();
  return {
    child,
    ready,
    request: (line) => {
      const answer = nextLine();
      child.stdin?.write(`${line}\n`);
      return answer;
    },
    close: () => child.stdin?.end(),
  };
}
