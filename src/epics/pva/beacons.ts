/**
 * Server beacons (docs/protocols/pvaccess.md, "Beacons"): decoding the datagrams that arrive where beacons are
 * listened for, and the tracker that tells a new or restarted server from one already known. Pure: the client
 * owns the sockets.
 */
import { datagramMessages, isLittleEndian } from './header.js';
import { type Beacon, decodeBeacon } from './messages.js';
import { Command } from './protocol.js';
import { WireReader } from './wire.js';

const datagramReader = new WireReader();

/**
 * The beacons of a datagram. The other messages are skipped: clients' search requests are sent to the same
 * addresses and port, so they arrive here too. Throws PvaProtocolError when the datagram is malformed.
 */
export function decodeBeaconDatagram(datagram: Buffer): Beacon[] {
  const beacons: Beacon[] = [];
  for (const { header, start, end } of datagramMessages(datagram, undefined)) {
    if (header.command !== Command.beacon) continue;
    beacons.push(decodeBeacon(datagramReader.reset(datagram, start, end, isLittleEndian(header.flags))));
  }
  return beacons;
}

interface BeaconState {
  guid: string;
  lastAt: number;
}

/**
 * Follows the beacons of each server (by address and port) and reports the **anomalies** that call for an
 * immediate search of the channels still waiting: a server heard with a new GUID (it restarted), and a server
 * heard for the first time that is new (its beacon sequence shows it started within its first beacons, or the
 * tracker has listened long enough to have heard every server that was running). A server's repeated beacons
 * (the same beacon over two routes among them) change nothing.
 */
export class BeaconTracker {
  private readonly servers = new Map<string, BeaconState>();

  /**
   * A first beacon with a sequence number below this comes from a server that started a few minutes ago at most:
   * pvxs servers send their first beacon (sequence 0) at start, then ten more 15 s apart.
   */
  static readonly FRESH_START_SEQUENCE = 10;
  /** pvxs servers' longest interval between beacons: a running server is heard within it. */
  static readonly LONGEST_BEACON_INTERVAL_MS = 180_000;
  /** A server not heard for this long is forgotten (pvxs: twice the longest interval). */
  static readonly FORGET_AFTER_MS = 2 * BeaconTracker.LONGEST_BEACON_INTERVAL_MS;
  /** At most this many servers are tracked; beyond, new ones are ignored (as pvxs does). */
  static readonly MAX_SERVERS = 20_000;

  /** `listeningSince`: when the client started listening for beacons. */
  constructor(private readonly listeningSince: number) {}

  get serverCount(): number {
    return this.servers.size;
  }

  /** Returns true when this beacon is an anomaly that should speed up searches. */
  observe(server: string, guid: string, sequence: number, now: number): boolean {
    const state = this.servers.get(server);
    if (state) {
      state.lastAt = now;
      if (state.guid === guid) return false;
      state.guid = guid;
      return true;
    }
    if (this.servers.size >= BeaconTracker.MAX_SERVERS) return false;
    this.servers.set(server, { guid, lastAt: now });
    return (
      sequence < BeaconTracker.FRESH_START_SEQUENCE ||
      now - this.listeningSince >= BeaconTracker.LONGEST_BEACON_INTERVAL_MS
    );
  }

  /** Forgets the servers not heard for FORGET_AFTER_MS: stopped for good, or out of reach. */
  forgetSilent(now: number): void {
    for (const [server, state] of this.servers) {
      if (now - state.lastAt >= BeaconTracker.FORGET_AFTER_MS) this.servers.delete(server);
    }
  }
}
