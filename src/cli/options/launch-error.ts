/** Any mistake in the launcher's options: parseLauncherArguments makes it one line on stderr and exit code 2. */
export class LaunchError extends Error {}
