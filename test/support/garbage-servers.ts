/**
 * Servers that send garbage, shared by the client fuzz tests and the daemon's: what the bytes are (fast-check
 * arbitraries, so a property test can shrink them), and CA and PVA servers that serve PVs normally, then send
 * one sample into each new connection once its subscriptions are up, and hang up shortly after, so a client
 * reconnects and meets the next sample. Their search replies are each preceded by a malformed datagram.
 * Loopback only.
 */
import fc from 'fast-check';
import { scalarDesc } from '../../src/epics/pva/introspection.js';
import { HEADER_SIZE, HeaderFlag, PVA_MAGIC } from '../../src/epics/pva/protocol.js';
import { Command } from '../../src/epics/ca/constants.js';
import { encodeMessage } from '../../src/epics/ca/messages.js';
import { FakeCaServer, fakeDouble } from './ca-fake-server.js';
import { freePort } from './ports.js';
import { FakePvaServer } from './pva-server/server.js';
import { ntType } from './pva-types.js';

const ntScalarDouble = ntType(scalarDesc.float64);

/** A subscription the client holds, which some garbage frames pretend to answer. */
export interface LiveSubscription {
  readonly subId: number;
  readonly dbrType: number;
}

/** A frame made for the subscription it pretends to answer. */
export type FrameFor = (live: LiveSubscription) => Buffer;

/** CA frames a client must recognise as protocol violations: each closes the circuit. */
export const caDetectableFrames: fc.Arbitrary<FrameFor> = fc.oneof(
  // Absurd sizes (extended header beyond any memory cap).
  fc
    .record({
      command: fc.integer({ min: 0, max: 27 }),
      size: fc.integer({ min: 0x40000000, max: 0xffffffff }),
    })
    .map(({ command, size }) => {
      const frame = Buffer.alloc(24);
      frame.writeUInt16BE(command, 0);
      frame.writeUInt16BE(0xffff, 2);
      frame.writeUInt32BE(size, 16);
      return () => frame;
    }),
  // Commands no server sends.
  fc.record({ command: fc.integer({ min: 28, max: 0xffff }), p1: fc.nat(), p2: fc.nat() }).map(
    ({ command, p1, p2 }) =>
      () =>
        encodeMessage(command, 0, 0, p1, p2),
  ),
  // A subscription update too short for the count it announces.
  fc.integer({ min: 2, max: 5000 }).map(
    (count): FrameFor =>
      (live) =>
        encodeMessage(Command.EVENT_ADD, live.dbrType, count, 1, live.subId, Buffer.alloc(24)),
  ),
  // An update of another DBR type than subscribed, or of no DBR type at all.
  fc.integer({ min: 0, max: 0xffff }).map(
    (type): FrameFor =>
      (live) =>
        encodeMessage(
          Command.EVENT_ADD,
          type === live.dbrType ? type + 1 : type,
          1,
          1,
          live.subId,
          Buffer.alloc(96),
        ),
  ),
  // A CREATE_CHAN reply with a native type that does not exist.
  fc.integer({ min: 7, max: 0xffff }).map((type) => () => encodeMessage(Command.CREATE_CHAN, type, 1, 1, 1)),
);

/** CA bytes a client may or may not recognise: random bytes, truncated frames, frames with random headers. */
export const caGarbageBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
  fc
    .record({
      command: fc.integer({ min: 0, max: 30 }),
      dataType: fc.integer({ min: 0, max: 40 }),
      count: fc.integer({ min: 0, max: 0xffff }),
      p1: fc.nat(),
      p2: fc.nat(),
      payload: fc.uint8Array({ maxLength: 200 }),
      cut: fc.nat(),
    })
    .map(({ command, dataType, count, p1, p2, payload, cut }) => {
      const frame = encodeMessage(command, dataType, count, p1, p2, payload);
      return frame.subarray(0, 1 + (cut % frame.length));
    }),
);

/** A PVA message with a valid header (either byte order, segmented or not) and a random payload. */
export const pvaRandomMessage: fc.Arbitrary<Buffer> = fc
  .record({
    command: fc.constantFrom(0x01, 0x02, 0x04, 0x07, 0x08, 0x09, 0x0d, 0x12, 0x30),
    flags: fc.constantFrom(0x40, 0xc0, 0x50, 0x60, 0x70, 0x41),
    payload: fc.uint8Array({ maxLength: 300 }),
  })
  .map(({ command, flags, payload }) => {
    const header = Buffer.from([PVA_MAGIC, 2, flags, command, 0, 0, 0, 0]);
    if (flags & HeaderFlag.bigEndian) header.writeUInt32BE(payload.length, 4);
    else header.writeUInt32LE(payload.length, 4);
    return Buffer.concat([header, payload]);
  });

/** PVA bytes a client must recognise as a protocol violation: a wrong magic byte or direction flag. */
export const pvaDetectableBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }).filter((magic) => magic !== PVA_MAGIC),
      fc.uint8Array({ minLength: HEADER_SIZE - 1, maxLength: 200 }),
    )
    .map(([magic, rest]) => Buffer.concat([Buffer.of(magic), rest])),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 100 })).map(([flags, payload]) => {
    const header = Buffer.from([PVA_MAGIC, 2, flags & ~HeaderFlag.fromServer & ~HeaderFlag.control, 0x0d]);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(payload.length);
    return Buffer.concat([header, size, payload]);
  }),
);

/** Samples of each kind, taken in turn, from a fixed seed so that a failing run can be replayed. */
class Samples<T> {
  private readonly pools: T[][];
  private next = 0;

  constructor(arbitraries: readonly fc.Arbitrary<T>[], seed: number) {
    this.pools = arbitraries.map((arbitrary) => fc.sample(arbitrary, { numRuns: 200, seed }));
  }

  take(): T {
    const pool = this.pools[this.next % this.pools.length] as T[];
    const sample = pool[Math.floor(this.next / this.pools.length) % pool.length] as T;
    this.next++;
    return sample;
  }
}

/** How often the servers look for connections to spoil, and how long they wait before hanging up. */
const POLL_MS = 20;
const HANG_UP_AFTER_MS = 150;

/**
 * A CA server whose PVs are doubles, which sends garbage into each circuit once it has a subscription: detectable
 * frames and arbitrary bytes in turn.
 */
export class GarbageCaServer {
  /** Circuits spoilt so far. */
  spoilt = 0;
  private readonly samples: Samples<FrameFor>;
  private readonly seen = new WeakSet<object>();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly server: FakeCaServer,
    seed: number,
  ) {
    const garbage = caGarbageBytes.map((bytes) => () => bytes);
    this.samples = new Samples([caDetectableFrames, garbage], seed);
    server.malformedDatagramBeforeReplies = true;
    this.timer = setInterval(() => this.spoil(), POLL_MS);
  }

  static async start(pvNames: readonly string[], seed = 1): Promise<GarbageCaServer> {
    const server = await FakeCaServer.start(Object.fromEntries(pvNames.map((name) => [name, fakeDouble(1)])));
    return new GarbageCaServer(server, seed);
  }

  /** The server's TCP and UDP port (an address list entry is `127.0.0.1:<port>`). */
  get port(): number {
    return this.server.port;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.server.stop();
  }

  private spoil(): void {
    for (const circuit of this.server.circuits) {
      const [subscription] = circuit.subscriptions.values();
      if (subscription === undefined || this.seen.has(circuit)) continue;
      this.seen.add(circuit);
      this.spoilt++;
      circuit.write(this.samples.take()({ subId: subscription.subId, dbrType: subscription.dbrType }));
      setTimeout(() => circuit.socket.end(), HANG_UP_AFTER_MS);
    }
  }
}

/**
 * A PVA server whose PVs are NTScalar doubles, which sends garbage into its connections each time monitors have
 * started: detectable bytes, random messages and random bytes in turn.
 */
export class GarbagePvaServer {
  /** Times the connections were spoilt. */
  spoilt = 0;
  private readonly samples: Samples<Buffer>;
  private monitorStartsSeen = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly server: FakePvaServer,
    readonly searchPort: number,
    seed: number,
  ) {
    const randomBytes = fc.uint8Array({ minLength: 1, maxLength: 400 }).map((bytes) => Buffer.from(bytes));
    this.samples = new Samples([pvaDetectableBytes, pvaRandomMessage, randomBytes], seed);
    this.timer = setInterval(() => this.spoil(), POLL_MS);
  }

  static async start(pvNames: readonly string[], seed = 1): Promise<GarbagePvaServer> {
    const searchPort = await freePort();
    const server = await FakePvaServer.start({ searchPort, malformedDatagramBeforeReplies: true });
    const now = BigInt(Math.floor(Date.now() / 1000));
    for (const name of pvNames) {
      server.addPv(name, ntScalarDouble, {
        value: 1,
        alarm: { severity: 0, status: 0, message: '' },
        timeStamp: { secondsPastEpoch: now, nanoseconds: 0, userTag: 0 },
      });
    }
    return new GarbagePvaServer(server, searchPort, seed);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.server.close();
  }

  private spoil(): void {
    const starts = this.server.log.monitorStarts;
    if (starts === this.monitorStartsSeen || this.server.connectionCount === 0) return;
    this.monitorStartsSeen = starts;
    this.spoilt++;
    this.server.sendRaw(this.samples.take());
    setTimeout(() => this.server.dropConnections(), HANG_UP_AFTER_MS);
  }
}
