/**
 * An in-process CA repeater, as libca runs when no caRepeater process holds EPICS_CA_REPEATER_PORT.
 *
 * Servers send beacons to the repeater port; only one socket can own it, so the repeater forwards every datagram
 * it receives there to the CA clients of this host that registered with it (REPEATER_REGISTER, answered with
 * REPEATER_CONFIRM). The client that owns the repeater registers with it like any other.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../../logging/logger.js';
import { Command, HEADER_SIZE } from './constants.js';
import { ipv4FromString } from '../common/addresses.js';
import { encodeMessage } from './messages.js';

function localAddresses(): Set<string> {
  const addresses = new Set<string>(['127.0.0.1']);
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) if (info.family === 'IPv4') addresses.add(info.address);
  }
  return addresses;
}

export class CaRepeater {
  /** Registered clients, as "address:port". */
  private readonly clients = new Map<string, { address: string; port: number }>();
  private readonly local = localAddresses();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly socket: UdpSocket,
    private readonly logger: Logger,
  ) {
    socket.on('message', (datagram, source) => this.onDatagram(datagram, source));
    socket.on('error', (error) => logger.debug('CA repeater socket error', { error: error.message }));
  }

  /**
   * Takes the repeater port if it is free (exclusively, as caRepeater does); undefined when another repeater
   * already runs there.
   */
  static async open(port: number, logger: Logger): Promise<CaRepeater | undefined> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    const bound = await new Promise<boolean>((resolveBind) => {
      socket.once('error', () => resolveBind(false));
      socket.bind(port, () => resolveBind(true));
    });
    if (!bound) {
      socket.close();
      return undefined;
    }
    socket.removeAllListeners('error');
    logger.debug('CA repeater started in process', { port });
    return new CaRepeater(socket, logger);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolveClose) => this.socket.close(() => resolveClose()));
    return this.closing;
  }

  private onDatagram(datagram: Buffer, source: RemoteInfo): void {
    const isRegistration =
      datagram.length === 0 ||
      (datagram.length >= HEADER_SIZE && datagram.readUInt16BE(0) === Command.REPEATER_REGISTER);
    if (isRegistration) {
      this.register(source);
      return;
    }
    for (const [key, client] of this.clients) {
      if (client.address === source.address && client.port === source.port) continue;
      this.socket.send(datagram, client.port, client.address, (error) => {
        if (error) this.clients.delete(key);
      });
    }
  }

  private register(source: RemoteInfo): void {
    if (!this.local.has(source.address)) return; // beacons are for clients on this host only
    this.clients.set(`${source.address}:${source.port}`, { address: source.address, port: source.port });
    const confirm = encodeMessage(Command.REPEATER_CONFIRM, 0, 0, 0, ipv4FromString(source.address) ?? 0);
    this.socket.send(confirm, source.port, source.address, (error) => {
      if (error) this.logger.debug('CA repeater could not confirm a registration', { error: error.message });
    });
  }
}
