/**
 * The client's production path without sockets: a Circuit carrying one real PvaChannel (with its monitor
 * operation and normative mapping), fed server bytes, with a listener recording what the channel delivers and the
 * requests the circuit writes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../../src/logging/logger.js';
import { RateLimitedLog } from '../../../src/logging/rate-limited.js';
import type { ConnectionEvent, PvUpdate } from '../../../src/model/update.js';
import {
  type ChannelHost,
  newCounters,
  PvaChannel,
  type StructureUpdate,
} from '../../../src/epics/pva/channel.js';
import { Circuit } from '../../../src/epics/pva/circuit.js';
import type { MonitorOptions } from '../../../src/epics/pva/messages.js';
import { LayoutCache } from '../../../src/epics/pva/monitor.js';

/** The CID and IOID of the recorded conversations (test/unit/pva/fixtures). */
export const FIXTURE_CID = 7;
export const FIXTURE_IOID = 0x2a;

export interface Fixture {
  pv: string;
  messages: { from: 'server' | 'client'; hex: string }[];
}

export function fixture(name: string): Fixture {
  const path = join(import.meta.dirname, 'fixtures', `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}

/** What the server said in a recorded conversation. */
export function serverStream(f: Fixture): Buffer {
  return Buffer.concat(f.messages.filter((m) => m.from === 'server').map((m) => Buffer.from(m.hex, 'hex')));
}

/** A circuit that has just connected, recording what it writes and what it tells its client. */
export function recordingCircuit(events: string[], written: Buffer[]): Circuit {
  const circuit = new Circuit(
    '127.0.0.1:5075',
    { write: (data) => written.push(data) },
    {
      identity: { user: 'op', host: 'ws1' },
      logger: silentLogger,
      events: {
        onReady: () => events.push('ready'),
        onSearchResponse: (_circuit, response) => events.push(`search ${response.channelIds.join(',')}`),
        onServerMessage: (_circuit, message, pvName) => events.push(`message ${message.text} (${pvName})`),
      },
    },
  );
  circuit.connected(0);
  return circuit;
}

export interface ChannelHarness {
  readonly circuit: Circuit;
  readonly channel: PvaChannel;
  readonly host: ChannelHost;
  /** What the circuit wrote, request by request. */
  readonly written: Buffer[];
  readonly events: string[];
  readonly connections: ConnectionEvent[];
  readonly updates: PvUpdate[];
  readonly structures: StructureUpdate[];
}

/** A circuit that has just connected, with channel `name` (CID 7) waiting for it; monitors get IOID 0x2a. */
export function channelHarness(name = 'TST:ai', monitor: MonitorOptions = {}): ChannelHarness {
  const written: Buffer[] = [];
  const events: string[] = [];
  const host: ChannelHost = {
    log: new RateLimitedLog(silentLogger, 'warn'),
    counters: newCounters(),
    monitorOptions: monitor,
    layouts: new LayoutCache(),
    nextIoid: () => FIXTURE_IOID,
    startSearch: () => events.push('search'),
    deferSearch: () => events.push('defer search'),
    stopSearch: () => undefined,
    startTimer: () => {
      events.push('retry timer');
      return () => undefined;
    },
    forget: () => events.push('forget'),
  };
  const circuit = recordingCircuit(events, written);
  const channel = new PvaChannel(name, FIXTURE_CID, host);
  const harness: ChannelHarness = {
    circuit,
    channel,
    host,
    written,
    events,
    connections: [],
    updates: [],
    structures: [],
  };
  channel.addListener({
    onUpdate: (update) => harness.updates.push(update),
    onConnection: (event) => harness.connections.push(event),
  });
  channel.addStructureListener({
    onStructure: (update) => harness.structures.push(update),
    onConnection: () => undefined,
  });
  channel.connectVia(circuit, 'guid');
  return harness;
}

/** Feeds bytes to the harness's circuit in chunks of the given sizes (the rest in one piece). */
export function feed(harness: ChannelHarness, stream: Buffer, chunkSizes: readonly number[] = []): void {
  let offset = 0;
  for (const size of chunkSizes) {
    if (offset >= stream.length) break;
    harness.circuit.receive(stream.subarray(offset, offset + size), 0);
    offset += size;
  }
  if (offset < stream.length) harness.circuit.receive(stream.subarray(offset), 0);
}
