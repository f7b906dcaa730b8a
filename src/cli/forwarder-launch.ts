import { runLauncher } from './launcher.js';

// Exit explicitly: the exit code is decided, logs are flushed, and nothing left open should keep the process up.
process.exit(await runLauncher(process.argv.slice(2), process.env));
