/** Who this client says it is: the names a server's access security sees (CA CLIENT_NAME/HOST_NAME, PVA "ca" auth). */
import { hostname, userInfo } from 'node:os';

export interface ClientIdentity {
  readonly user: string;
  readonly host: string;
}

/** This process's user and host name. */
export function defaultIdentity(): ClientIdentity {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): any name will do.
  }
  return { user, host: hostname() };
}
