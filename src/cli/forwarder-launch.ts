import { runLauncher } from './launcher.js';

// Exit explicitly: the exit code is decided, logs are flushed, and nothing left open should keep the process up.
const outcome = await runLauncher(process.argv.slice(2), process.env);
if (typeof outcome === 'number') process.exit(outcome);
// A stop during start-up while librdkafka still waits for an answer, which process.exit() would wait for too.
process.removeAllListeners(outcome);
process.kill(process.pid, outcome);
