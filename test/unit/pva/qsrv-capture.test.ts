/**
 * Decoding against recorded conversations with a real QSRV (pvxslibs 1.5.3 IOC serving test/env/ioc/test.db
 * with prefix TST:), recorded by test/env/pva/capture_monitor.py — a hand-written Python client — so the server
 * bytes are independent of this codebase. Covers the handshake, CREATE_CHANNEL, the MONITOR INIT reply's full
 * type description, the first (leaf-bit) update and steady deltas merged into it, in any chunking of the stream.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitSet } from '../../../src/epics/pva/bitset.js';
import { Circuit, type CircuitListener } from '../../../src/epics/pva/circuit.js';
import { TypeRegistry, decodeFieldDesc } from '../../../src/epics/pva/introspection.js';
import { MonitorSubcommand } from '../../../src/epics/pva/protocol.js';
import { NormativeMapper } from '../../../src/epics/pva/normative.js';
import { StructureLayout, StructureStore, decodeDelta } from '../../../src/epics/pva/values.js';
import { WireReader } from '../../../src/epics/pva/wire.js';
import { silentLogger } from '../../../src/logging/logger.js';
import type { PvUpdate } from '../../../src/model/update.js';

interface Fixture {
  pv: string;
  messages: { from: 'server' | 'client'; hex: string }[];
}

function fixture(name: string): Fixture {
  const path = join(import.meta.dirname, 'fixtures', `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}

function serverStream(f: Fixture): Buffer {
  return Buffer.concat(f.messages.filter((m) => m.from === 'server').map((m) => Buffer.from(m.hex, 'hex')));
}

interface Decoded {
  layout?: StructureLayout;
  changed: number[][];
  updates: PvUpdate[];
  stores: unknown[];
  events: string[];
}

/** Feeds the server side of a capture, cut into the given chunk sizes, through a Circuit. */
function replay(f: Fixture, chunkSizes: readonly number[] = []): Decoded {
  const out: Decoded = { changed: [], updates: [], stores: [], events: [] };
  let store: StructureStore | undefined;
  let mapper: NormativeMapper | undefined;
  const listener: CircuitListener = {
    onReady: () => out.events.push('ready'),
    onCreateChannel: (_c, r) => out.events.push(`created cid=${r.cid} sid=0x${r.sid.toString(16)}`),
    onDestroyChannel: (_c, ids) => out.events.push(`destroyed sid=0x${ids.sid.toString(16)} cid=${ids.cid}`),
    onMonitor: (circuit, ioid, subcommand, reader) => {
      assert.equal(ioid, 0x2a);
      if (subcommand === MonitorSubcommand.init) {
        assert.equal(reader.status().type, 0);
        const type = decodeFieldDesc(reader, circuit.rxTypes);
        assert.equal(type?.kind, 'structure');
        out.layout = new StructureLayout(type as never);
        store = new StructureStore(out.layout);
        mapper = new NormativeMapper(out.layout);
        return;
      }
      const changed = new BitSet();
      decodeDelta(reader, store as StructureStore, circuit.rxTypes, changed, new BitSet());
      assert.equal(reader.remaining, 0);
      out.changed.push(changed.toArray());
      out.updates.push((mapper as NormativeMapper).map(store as StructureStore) as PvUpdate);
      out.stores.push(store?.toData());
    },
    onSearchResponse: () => assert.fail('no search over TCP here'),
    onServerMessage: () => assert.fail('no MESSAGE expected'),
    onProtocolError: (_c, error) => assert.fail(error),
  };
  const circuit = new Circuit('127.0.0.1:5075', listener, {
    credentials: { user: 'op', host: 'ws1' },
    logger: silentLogger,
  });
  circuit.connected(0);
  const stream = serverStream(f);
  let offset = 0;
  for (const size of chunkSizes) {
    if (offset >= stream.length) break;
    circuit.receive(stream.subarray(offset, offset + size), 0);
    offset += size;
  }
  if (offset < stream.length) circuit.receive(stream.subarray(offset), 0);
  return out;
}

const sine = (tick: number): number => 10 * Math.sin(tick * 0.05);

describe('QSRV capture: ai (NTScalar double)', () => {
  const decoded = replay(fixture('qsrv-ai'));

  it('validates, creates the channel and decodes the 34-node NTScalar type', () => {
    assert.deepEqual(decoded.events.slice(0, 2), ['ready', 'created cid=7 sid=0x7050301']);
    const layout = decoded.layout as StructureLayout;
    assert.equal(layout.type.id, 'epics:nt/NTScalar:1.0');
    assert.equal(layout.size, 34);
    // Bit numbers observed in pvaccess.md §9.
    for (const [path, bit] of [
      ['value', 1],
      ['alarm', 2],
      ['timeStamp', 6],
      ['display', 10],
      ['display.form', 16],
      ['control', 19],
      ['valueAlarm', 23],
      ['valueAlarm.hysteresis', 33],
    ] as const) {
      assert.equal(layout.indexOf(path), bit, path);
    }
  });

  it('merges the first update’s leaf bits into type defaults', () => {
    assert.deepEqual(
      decoded.changed[0],
      [1, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14, 15, 17, 18, 20, 21, 25, 26, 27, 28],
    );
    const first = decoded.stores[0] as Record<string, Record<string, unknown>>;
    assert.equal(first['display']?.['units'], 'mA');
    assert.equal(first['display']?.['precision'], 2);
    assert.deepEqual((first['display']?.['form'] as { choices: string[] }).choices, [
      'Default',
      'String',
      'Binary',
      'Decimal',
      'Hex',
      'Exponential',
      'Engineering',
    ]);
    assert.equal(first['valueAlarm']?.['highAlarmLimit'], 8);
    assert.equal(first['valueAlarm']?.['lowAlarmLimit'], -8);
    // Never sent by QSRV, so still the defaults.
    assert.equal(first['valueAlarm']?.['active'], false);
    assert.equal(first['valueAlarm']?.['hysteresis'], 0);
  });

  it('applies steady deltas {value, timeStamp.*} and keeps the rest of the merged value', () => {
    assert.deepEqual(decoded.changed.slice(1), [
      [1, 7, 8, 9],
      [1, 7, 8, 9],
    ]);
    const values = decoded.updates.map((u) => (u.value.kind === 'scalar' ? u.value.value : undefined));
    const tick = Math.round(Math.asin((values[0] as number) / 10) / 0.05);
    assert.deepEqual(values, [sine(tick), sine(tick + 1), sine(tick + 2)]);
    for (const update of decoded.updates) {
      assert.equal(update.value.kind === 'scalar' && update.value.type, 'float64');
      assert.deepEqual(update.display, { units: 'mA', precision: 2 });
      assert.deepEqual(update.alarm, { severity: 0, status: 0, message: '' });
    }
    const steps = decoded.updates
      .slice(1)
      .map((u, i) => u.timestampNs - (decoded.updates[i] as PvUpdate).timestampNs);
    for (const step of steps)
      assert.ok(step > 90_000_000n && step < 110_000_000n, `10 Hz steps, got ${step}`);
  });

  it('reuses unchanged alarm and display objects between updates', () => {
    const [a, b] = decoded.updates as [PvUpdate, PvUpdate];
    assert.equal(a.alarm, b.alarm);
    assert.equal(a.display, b.display);
  });

  it('decodes identically however the TCP stream is cut (down to single bytes)', () => {
    const comparable = ({ layout: _layout, ...rest }: Decoded): Omit<Decoded, 'layout'> => rest;
    const whole = comparable(replay(fixture('qsrv-ai')));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { maxLength: 60 }), (sizes) => {
        assert.deepEqual(comparable(replay(fixture('qsrv-ai'), sizes)), whole);
      }),
      { numRuns: 40 },
    );
    assert.deepEqual(comparable(replay(fixture('qsrv-ai'), new Array<number>(2000).fill(1))), whole);
  });
});

describe('pvaccess.md §11 update bytes decoded with the recorded QSRV ai type', () => {
  it('reads the spec’s first-update BitSet and its steady update (55.0 at 1795472099 s + 47149809 ns)', () => {
    const layout = replay(fixture('qsrv-ai')).layout as StructureLayout;
    const bits = new BitSet().read(new WireReader(Buffer.from('04bafb361e', 'hex'))).toArray();
    assert.deepEqual(bits, [1, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14, 15, 17, 18, 20, 21, 25, 26, 27, 28]);
    const steady = Buffer.from(
      'ca02400d210000002a00000000028203000000000080 4b40e3ba046b00000000f172cf020000000000'.replace(/ /g, ''),
      'hex',
    );
    const store = new StructureStore(layout);
    const reader = new WireReader().reset(steady, 8, steady.length, true);
    assert.equal(reader.u32(), 0x2a);
    assert.equal(reader.u8(), MonitorSubcommand.update);
    const changed = new BitSet();
    decodeDelta(reader, store, new TypeRegistry(), changed, new BitSet());
    assert.deepEqual(changed.toArray(), [1, 7, 8, 9]);
    assert.equal(reader.remaining, 0);
    const update = new NormativeMapper(layout).map(store) as PvUpdate;
    assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: 55 });
    assert.equal(update.timestampNs, 1_795_472_099_047_149_809n);
  });
});

describe('QSRV capture: mbbi (NTEnum)', () => {
  const decoded = replay(fixture('qsrv-mbbi'));

  it('maps value.index with the choices, and an alarm arriving in a delta', () => {
    assert.equal(decoded.layout?.type.id, 'epics:nt/NTEnum:1.0');
    assert.deepEqual(decoded.changed[0], [2, 3, 5, 6, 7, 9, 10, 11, 13]);
    const [first, second] = decoded.updates as [PvUpdate, PvUpdate];
    assert.deepEqual(first.value, { kind: 'enum', index: 2, choices: ['Idle', 'Ramp', 'Hold', 'Fault'] });
    assert.deepEqual(decoded.changed[1], [2, 5, 6, 7, 9, 10, 11]);
    assert.deepEqual(second.value, { kind: 'enum', index: 3, choices: ['Idle', 'Ramp', 'Hold', 'Fault'] });
    assert.deepEqual(second.alarm, { severity: 2, status: 1, message: 'STATE' });
    assert.equal(second.display, undefined);
  });
});

describe('QSRV capture: wf:int64 (NTScalarArray of int64)', () => {
  it('decodes the array as a BigInt64Array', () => {
    const decoded = replay(fixture('qsrv-wf-int64'));
    assert.equal(decoded.layout?.type.id, 'epics:nt/NTScalarArray:1.0');
    const value = decoded.updates[0]?.value;
    assert.equal(value?.kind, 'array');
    assert.ok(value?.kind === 'array' && value.value instanceof BigInt64Array);
    assert.deepEqual([...(value.value as BigInt64Array)], [-5n, -1n, 0n, 1n, 5_000_000_000n]);
  });
});

describe('QSRV capture: never processed ai', () => {
  it('shows UDF / INVALID with the CA epoch (631152000 s) as timestamp', () => {
    const update = replay(fixture('qsrv-never')).updates[0] as PvUpdate;
    assert.deepEqual(update.alarm, { severity: 3, status: 2, message: 'UDF' });
    assert.equal(update.timestampNs, 631_152_000n * 1_000_000_000n);
    assert.deepEqual(update.value, { kind: 'scalar', type: 'float64', value: 0 });
  });
});
