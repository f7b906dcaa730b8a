/**
 * Client configuration from the EPICS_CA_* environment variables (defaults of EPICS Base `CONFIG_ENV`).
 */
import { type Endpoint } from '../common/addresses.js';
import { type Environment, EnvironmentReader } from '../common/environment.js';
import { DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from './constants.js';

export interface CaConfig {
  /** EPICS_CA_ADDR_LIST: search destinations (unicast or broadcast). */
  readonly addressList: readonly Endpoint[];
  /** EPICS_CA_AUTO_ADDR_LIST: also search the broadcast address of every interface. */
  readonly autoAddressList: boolean;
  /** EPICS_CA_NAME_SERVERS: TCP name servers. */
  readonly nameServers: readonly Endpoint[];
  readonly serverPort: number;
  readonly repeaterPort: number;
  /** Largest message payload accepted from a server. */
  readonly maxArrayBytes: number;
  /** EPICS_CA_CONN_TMO in ms: circuit silence before an ECHO is sent. */
  readonly connectionTimeoutMs: number;
  /** EPICS_CA_MAX_SEARCH_PERIOD in ms: upper bound of the search back-off. */
  readonly maxSearchPeriodMs: number;
  /** Settings that were malformed and replaced by their default. */
  readonly warnings: readonly string[];
}

const DEFAULT_CONNECTION_TIMEOUT_S = 30;
const DEFAULT_MAX_ARRAY_BYTES = 16384;
/**
 * With EPICS_CA_AUTO_ARRAY_BYTES=YES (the default since Base 3.16.1) libca ignores EPICS_CA_MAX_ARRAY_BYTES and
 * accepts any size; this client still caps what one message may announce, so garbage cannot claim gigabytes.
 */
const AUTO_ARRAY_BYTES_CAP = 512 * 1024 * 1024;
/** Search back-off cap for a daemon: libca's 300 s default makes a late IOC wait minutes. */
const DEFAULT_MAX_SEARCH_PERIOD_S = 60;
const MIN_MAX_SEARCH_PERIOD_S = 1;

/** CA address lists separate entries by white space, and libca takes commas too. */
const LIST_SEPARATOR = /[\s,]+/;

export function readCaConfig(env: Environment): CaConfig {
  const read = new EnvironmentReader(env);
  const serverPort = read.port('EPICS_CA_SERVER_PORT', DEFAULT_SERVER_PORT);
  const maxArrayBytes = Math.max(
    DEFAULT_MAX_ARRAY_BYTES,
    read.positiveNumber('EPICS_CA_MAX_ARRAY_BYTES', DEFAULT_MAX_ARRAY_BYTES),
  );
  const autoArrayBytes = read.yesNo('EPICS_CA_AUTO_ARRAY_BYTES', true);
  return {
    addressList: read.endpoints('EPICS_CA_ADDR_LIST', serverPort, LIST_SEPARATOR),
    autoAddressList: read.yesNo('EPICS_CA_AUTO_ADDR_LIST', true),
    nameServers: read.endpoints('EPICS_CA_NAME_SERVERS', serverPort, LIST_SEPARATOR),
    serverPort,
    repeaterPort: read.port('EPICS_CA_REPEATER_PORT', DEFAULT_REPEATER_PORT),
    maxArrayBytes: autoArrayBytes ? Math.max(maxArrayBytes, AUTO_ARRAY_BYTES_CAP) : maxArrayBytes,
    connectionTimeoutMs: 1000 * read.positiveNumber('EPICS_CA_CONN_TMO', DEFAULT_CONNECTION_TIMEOUT_S),
    maxSearchPeriodMs:
      1000 *
      Math.max(
        MIN_MAX_SEARCH_PERIOD_S,
        read.positiveNumber('EPICS_CA_MAX_SEARCH_PERIOD', DEFAULT_MAX_SEARCH_PERIOD_S),
      ),
    warnings: read.warnings,
  };
}
