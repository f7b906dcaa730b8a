/**
 * A small Channel Access server behaving like rsrv where it matters (VERSION-led search replies, ACCESS_RIGHTS
 * before the CREATE_CHAN reply, ECA status in p1, count-0 replies, size-0 cancel acknowledgements), with hooks
 * for what real servers will not do on demand: raw bytes into a circuit, SERVER_DISCONN, refused channels,
 * ERROR replies to subscriptions, non-NORMAL replies with zeroed data, byte-at-a-time delivery, malformed
 * datagrams.
 * Loopback only.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Command, DbrClass, EcaStatus, type NativeType } from '../../src/epics/ca/constants.js';
import { dbrClassOf, encodeDbr, type DbrData, type DbrMetadata } from '../../src/epics/ca/dbr.js';
import { MessageFramer } from '../../src/epics/ca/framer.js';
import {
  decodeDatagram,
  encodeMessage,
  readNulTerminated,
  type MessageHeader,
} from '../../src/epics/ca/messages.js';
import { epicsClientEnv } from './ioc.js';
import { freePort } from './ports.js';

export interface FakePv {
  readonly nativeType: NativeType;
  /** Native element count. */
  readonly count: number;
  status: number;
  severity: number;
  values: DbrData['values'];
  metadata: DbrMetadata;
  /** Answer CREATE_CHAN with CREATE_CH_FAIL. */
  refuse?: boolean;
  /** Answer EVENT_ADD for the TIME type with this ERROR status instead of data. */
  subscriptionError?: number;
}

interface ServerSubscription {
  readonly pvName: string;
  readonly subId: number;
  readonly dbrType: number;
  readonly count: number;
}

interface ServerChannel {
  readonly pvName: string;
  readonly cid: number;
  readonly sid: number;
}

class FakeCircuit {
  readonly channels = new Map<number, ServerChannel>();
  readonly subscriptions = new Map<number, ServerSubscription>();
  private readonly framer: MessageFramer;

  constructor(
    readonly socket: Socket,
    private readonly server: FakeCaServer,
  ) {
    this.framer = new MessageFramer(1 << 24, (header, payload) =>
      this.handle({ ...header }, Buffer.from(payload)),
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    this.write(encodeMessage(Command.VERSION, 0, 13, 0, 0));
  }

  write(data: Buffer): void {
    if (this.socket.destroyed) return;
    if (!this.server.byteAtATime) {
      this.socket.write(data);
      return;
    }
    for (let i = 0; i < data.length; i++) this.socket.write(data.subarray(i, i + 1));
  }

  sendValue(subscription: ServerSubscription, status: number = EcaStatus.NORMAL): void {
    const pv = this.server.pvs.get(subscription.pvName);
    if (!pv) return;
    const available = pv.values.length;
    const count = subscription.count === 0 ? available : subscription.count;
    const values = Array.from(
      { length: count },
      (_, i) => pv.values[i] ?? (typeof pv.values[0] === 'string' ? '' : 0),
    );
    const data: DbrData = {
      status: pv.status,
      severity: pv.severity,
      secondsPastEpoch: 1_000_000_000,
      nanoseconds: this.server.nextNanoseconds++,
      metadata: pv.metadata,
      values: values as DbrData['values'],
    };
    const payload =
      status === EcaStatus.NORMAL
        ? encodeDbr(subscription.dbrType, data)
        : Buffer.alloc(encodeDbr(subscription.dbrType, data).length);
    this.write(
      encodeMessage(Command.EVENT_ADD, subscription.dbrType, count, status, subscription.subId, payload),
    );
  }

  private handle(header: MessageHeader, payload: Buffer): void {
    this.server.requests.push(header);
    switch (header.command) {
      case Command.CREATE_CHAN: {
        const name = readNulTerminated(payload, 0, payload.length);
        const pv = this.server.pvs.get(name);
        if (!pv || pv.refuse) {
          this.write(encodeMessage(Command.CREATE_CH_FAIL, 0, 0, header.p1, 0));
          return;
        }
        const sid = this.server.nextSid++;
        this.channels.set(sid, { pvName: name, cid: header.p1, sid });
        this.write(encodeMessage(Command.ACCESS_RIGHTS, 0, 0, header.p1, 3));
        this.write(encodeMessage(Command.CREATE_CHAN, pv.nativeType, pv.count, header.p1, sid));
        return;
      }
      case Command.EVENT_ADD: {
        const channel = this.channels.get(header.p1);
        if (!channel) return;
        const subscription = {
          pvName: channel.pvName,
          subId: header.p2,
          dbrType: header.dataType,
          count: header.count,
        };
        const pv = this.server.pvs.get(channel.pvName);
        if (pv?.subscriptionError !== undefined && dbrClassOf(header.dataType) === DbrClass.TIME) {
          const request = encodeMessage(header.command, header.dataType, header.count, header.p1, header.p2);
          const text = Buffer.from('refused by the fake server\0');
          this.write(
            encodeMessage(
              Command.ERROR,
              0,
              0,
              channel.cid,
              pv.subscriptionError,
              Buffer.concat([request, text]),
            ),
          );
          return;
        }
        this.subscriptions.set(header.p2, subscription);
        this.sendValue(subscription);
        return;
      }
      case Command.EVENT_CANCEL: {
        const subscription = this.subscriptions.get(header.p2);
        this.subscriptions.delete(header.p2);
        if (subscription)
          this.write(encodeMessage(Command.EVENT_ADD, header.dataType, 0, header.p1, header.p2));
        return;
      }
      case Command.CLEAR_CHANNEL:
        this.channels.delete(header.p1);
        this.write(encodeMessage(Command.CLEAR_CHANNEL, 0, 0, header.p1, header.p2));
        return;
      case Command.ECHO:
        if (!this.server.silent) this.write(encodeMessage(Command.ECHO, 0, 0, 0, 0));
        return;
      default:
        return;
    }
  }
}

export class FakeCaServer {
  readonly pvs = new Map<string, FakePv>();
  readonly circuits = new Set<FakeCircuit>();
  /** Every request header received, for assertions. */
  readonly requests: MessageHeader[] = [];
  nextSid = 0;
  nextNanoseconds = 0;
  /** Deliver every write one byte per TCP write. */
  byteAtATime = false;
  /** Do not answer ECHO (a server that went silent). */
  silent = false;
  /** Send a malformed datagram (a cut-off header) before each search reply. */
  malformedDatagramBeforeReplies = false;

  private constructor(
    readonly port: number,
    private readonly repeaterPort: number,
    private readonly tcp: Server,
    private readonly udp: UdpSocket,
  ) {
    tcp.on('connection', (socket) => {
      const circuit = new FakeCircuit(socket, this);
      this.circuits.add(circuit);
      socket.once('close', () => this.circuits.delete(circuit));
    });
    udp.on('message', (datagram, source) => this.onSearch(datagram, source.address, source.port));
  }

  static async start(pvs: Record<string, FakePv>): Promise<FakeCaServer> {
    const port = await freePort();
    const tcp = createServer();
    tcp.listen(port, '127.0.0.1');
    await once(tcp, 'listening');
    const udp = createSocket('udp4');
    udp.bind(port, '127.0.0.1');
    await once(udp, 'listening');
    const server = new FakeCaServer(port, await freePort(), tcp, udp);
    for (const [name, pv] of Object.entries(pvs)) server.pvs.set(name, pv);
    return server;
  }

  /** Client environment that finds this server only. */
  get clientEnv(): Record<string, string> {
    return {
      ...epicsClientEnv({
        caServerPort: this.port,
        caRepeaterPort: this.repeaterPort,
        pvaServerPort: 0,
        pvaBroadcastPort: 0,
      }),
      EPICS_CA_SERVER_PORT: String(this.port),
    };
  }

  /** Sends the current value of a PV to every subscription of it (TIME and CTRL alike). */
  post(name: string, status: number = EcaStatus.NORMAL): void {
    for (const circuit of this.circuits) {
      for (const subscription of circuit.subscriptions.values()) {
        if (subscription.pvName === name) circuit.sendValue(subscription, status);
      }
    }
  }

  /** Raw bytes into every open circuit. */
  inject(bytes: Buffer): void {
    for (const circuit of this.circuits) circuit.write(bytes);
  }

  /** SERVER_DISCONN for every channel of that PV; the circuit stays up. */
  disconnectChannel(name: string): void {
    for (const circuit of this.circuits) {
      for (const channel of [...circuit.channels.values()]) {
        if (channel.pvName !== name) continue;
        circuit.channels.delete(channel.sid);
        for (const [subId, subscription] of circuit.subscriptions) {
          if (subscription.pvName === name) circuit.subscriptions.delete(subId);
        }
        circuit.write(encodeMessage(Command.SERVER_DISCONN, 0, 0, channel.cid, 0));
      }
    }
  }

  /**
   * Streams DBR_TIME_DOUBLE updates to every TIME subscription of a double PV, round-robin, at about
   * `updatesPerSecond` in total; each PV's value counts the updates sent for it, so a client can tell what was
   * served. Updates that a congested socket cannot take are not sent (and not counted). Returns a stop function.
   */
  stream(updatesPerSecond: number): () => void {
    const tickMs = 5;
    const perTick = Math.max(1, Math.round((updatesPerSecond * tickMs) / 1000));
    const counts = new Map<string, number>();
    let cursor = 0;
    const timer = setInterval(() => {
      for (const circuit of this.circuits) {
        const subscriptions = [...circuit.subscriptions.values()].filter((sub) => sub.dbrType === 20);
        if (subscriptions.length === 0 || circuit.socket.writableLength > 1 << 20) continue;
        const batch = Buffer.alloc(perTick * 40);
        const now = Math.floor(Date.now() / 1000) - 631_152_000;
        for (let i = 0; i < perTick; i++) {
          const subscription = subscriptions[cursor++ % subscriptions.length] as ServerSubscription;
          const value = (counts.get(subscription.pvName) ?? 0) + 1;
          counts.set(subscription.pvName, value);
          const offset = i * 40;
          batch.writeUInt16BE(Command.EVENT_ADD, offset);
          batch.writeUInt16BE(24, offset + 2);
          batch.writeUInt16BE(20, offset + 4);
          batch.writeUInt16BE(1, offset + 6);
          batch.writeUInt32BE(EcaStatus.NORMAL, offset + 8);
          batch.writeUInt32BE(subscription.subId, offset + 12);
          batch.writeUInt32BE(now, offset + 20);
          batch.writeUInt32BE(this.nextNanoseconds++ % 1_000_000_000, offset + 24);
          batch.writeDoubleBE(value, offset + 32);
        }
        circuit.socket.write(batch);
      }
    }, tickMs);
    return () => clearInterval(timer);
  }

  /** Closes every circuit (FIN), as an IOC exiting would. */
  dropCircuits(): void {
    for (const circuit of this.circuits) circuit.socket.end();
  }

  /** Subscription ids the clients hold for a PV with this DBR type. */
  subscriptionIds(name: string, dbrType: number): number[] {
    const ids: number[] = [];
    for (const circuit of this.circuits) {
      for (const subscription of circuit.subscriptions.values()) {
        if (subscription.pvName === name && subscription.dbrType === dbrType) ids.push(subscription.subId);
      }
    }
    return ids;
  }

  get subscriptionCount(): number {
    let count = 0;
    for (const circuit of this.circuits) count += circuit.subscriptions.size;
    return count;
  }

  async stop(): Promise<void> {
    for (const circuit of this.circuits) circuit.socket.destroy();
    await new Promise<void>((resolveClose) => this.tcp.close(() => resolveClose()));
    await new Promise<void>((resolveClose) => this.udp.close(() => resolveClose()));
  }

  private onSearch(datagram: Buffer, address: string, port: number): void {
    let messages;
    try {
      messages = decodeDatagram(datagram);
    } catch {
      return;
    }
    const replies: Buffer[] = [];
    for (const { header, payload } of messages) {
      if (header.command === Command.VERSION) {
        replies.push(encodeMessage(Command.VERSION, 0, 13, header.p1, 0));
        continue;
      }
      if (header.command !== Command.SEARCH) continue;
      const name = readNulTerminated(payload, 0, payload.length);
      if (!this.pvs.has(name)) continue;
      const minor = Buffer.alloc(2);
      minor.writeUInt16BE(13);
      replies.push(encodeMessage(Command.SEARCH, this.port, 0, 0xffffffff, header.p2, minor));
    }
    if (replies.length <= 1) return;
    if (this.malformedDatagramBeforeReplies) this.udp.send(Buffer.alloc(7), port, address);
    this.udp.send(Buffer.concat(replies), port, address);
  }
}

/** A scalar double PV for the fake server. */
export function fakeDouble(value: number, units = 'mm'): FakePv {
  return {
    nativeType: 6,
    count: 1,
    status: 0,
    severity: 0,
    values: Float64Array.of(value),
    metadata: { units, precision: 2, limits: {} },
  };
}
