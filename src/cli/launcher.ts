import { Command } from 'commander';
import { packageVersion } from './version.js';

/** Parses the command line and runs the forwarder; resolves with the process exit code. */
export async function runLauncher(argv: readonly string[], _env: NodeJS.ProcessEnv): Promise<number> {
  const program = new Command('forwarder-launch')
    .description('Forwards EPICS PVs (Channel Access and pvAccess) to Kafka as ESS FlatBuffers messages.')
    .version(packageVersion, '--version')
    .exitOverride();
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  return 0;
}
