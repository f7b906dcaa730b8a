import { runLauncher } from './launcher.js';

process.exitCode = await runLauncher(process.argv.slice(2), process.env);
