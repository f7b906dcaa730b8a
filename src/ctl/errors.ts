/** The two ways forwarder-ctl fails; each becomes one line on stderr and an exit code. */

/** A mistake in what was given (arguments, a stream file, a URI): exit code 2, nothing was sent or read. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation itself failed (Kafka unreachable, a topic missing, a message not delivered): exit code 1. */
export class CtlError extends Error {
  override readonly name = 'CtlError';
}
