/**
 * The test command. Unit tests need nothing; integration tests get one real Kafka broker for the whole run
 * (its details in a JSON file named by EKF_TEST_KAFKA), started here and stopped afterwards, also on failure or
 * interruption. Test files start their own IOCs. Usage: run-tests.ts [--unit] [files or directories...]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import { repoRoot } from '../test/support/paths.js';

function testFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => {
      const full = join(path, entry);
      return statSync(full).isDirectory() ? testFiles(full) : full.endsWith('.test.ts') ? [full] : [];
    });
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const roots = args.filter((arg) => !arg.startsWith('--'));
const files = (roots.length > 0 ? roots : unitOnly ? ['test/unit'] : ['test/unit', 'test/integration'])
  .flatMap((root) => testFiles(join(repoRoot, root)))
  .map((file) => relative(repoRoot, file));
const needsBroker = files.some((file) => file.startsWith(join('test', 'integration')));

let broker: TestKafkaBroker | undefined;
const envDir = mkdtempSync(join(tmpdir(), 'ekf-test-env-'));

async function cleanUp(): Promise<void> {
  await broker?.destroy();
  broker = undefined;
  rmSync(envDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().then(() => process.exit(130));
  });
}

let exitCode: number;
try {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (needsBroker) {
    broker = await TestKafkaBroker.start();
    const file = join(envDir, 'kafka.json');
    writeFileSync(file, JSON.stringify(broker.info, null, 2));
    env['EKF_TEST_KAFKA'] = file;
    console.log(`# Kafka broker for this run: ${JSON.stringify(broker.info.listeners)}`);
  }
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
    { cwd: repoRoot, env, stdio: 'inherit' },
  );
  exitCode = await new Promise<number>((resolveExit) => child.once('exit', (code) => resolveExit(code ?? 1)));
} finally {
  await cleanUp();
}
process.exit(exitCode);
