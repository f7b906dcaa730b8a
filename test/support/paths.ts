import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where setup keeps what it downloads (Node, the Kafka jars, the Python venv), outside the clone. */
export const cacheDir = process.env['EKF_CACHE_DIR'] ?? join(homedir(), '.cache', 'epics-kafka-forwarder');

/** The test Python virtual environment's interpreter. */
export const venvPython = join(cacheDir, 'venv-test', 'bin', 'python');
