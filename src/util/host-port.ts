/** A TCP or UDP endpoint: a host name or address, and a port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}
