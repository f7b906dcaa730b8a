/**
 * Decoding against recorded conversations with a real QSRV (pvxslibs 1.5.3 IOC serving test/env/ioc/test.db
 * with prefix TST:), recorded by test/env/pva/capture_monitor.py — a hand-written Python client — so the server
 * bytes are independent of this codebase. Covers the handshake, CREATE_CHANNEL, the MONITOR INIT reply's full
 * type description, the first (leaf-bit) update and steady deltas merged into it, in any chunking of the stream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitSet } from '../../../src/epics/pva/bitset.js';
import { TypeRegistry } from '../../../src/epics/pva/introspection.js';
import { MonitorSubcommand } from '../../../src/epics/pva/protocol.js';
import { NormativeMapper } from '../../../src/epics/pva/normative.js';
import { StructureLayout, StructureStore, decodeDelta } from '../../../src/epics/pva/structure.js';
import { WireReader } from '../../../src/epics/pva/wire.js';
import type { PvUpdate } from '../../../src/model/update.js';
import { channelHarness, feed, type Fixture, fixture, serverStream } from './channel-harness.js';

interface Decoded {
  layout?: StructureLayout;
  changed: number[][];
  updates: PvUpdate[];
  stores: unknown[];
  /** What the channel asked of its client (search), and the circuit's readiness. */
  events: string[];
  /** The requests the circuit wrote, in hex. */
  requests: string[];
  /** The connection states the channel published. */
  connection: string[];
}

/**
 * Feeds the server side of a capture, cut into the given chunk sizes, through the client's own path: a Circuit
 * carrying a PvaChannel, whose monitor decodes and maps each update.
 */
function replay(f: Fixture, chunkSizes: readonly number[] = []): Decoded {
  const harness = channelHarness(f.pv);
  feed(harness, serverStream(f), chunkSizes);
  const type = harness.structures[0]?.type;
  const layout = type && new StructureLayout(type);
  return {
    ...(layout && { layout }),
    changed: harness.structures.map((update) =>
      update.changed.map((path) => (layout as StructureLayout).indexOf(path)),
    ),
    updates: harness.updates,
    stores: harness.structures.map((update) => update.value),
    events: harness.events,
    requests: harness.written.map((request) => request.toString('hex')),
    connection: harness.connections.map((event) => event.state),
  };
}

const sine = (tick: number): number => 10 * Math.sin(tick * 0.05);

describe('QSRV capture: ai (NTScalar double)', () => {
  const decoded = replay(fixture('qsrv-ai'));

  it('validates, creates the channel, starts its monitor and decodes the 34-node NTScalar type', () => {
    const [validation, create, init, start] = decoded.requests;
    assert.match(validation ?? '', /^ca020001/);
    assert.equal(create, 'ca0200070d000000010007000000065453543a6169', 'CREATE_CHANNEL of CID 7, TST:ai');
    // INIT and START of IOID 0x2a on the SID the server gave (0x07050301).
    assert.equal(init, 'ca02000d15000000010305072a00000008800001056669656c64800000');
    assert.equal(start, 'ca02000d09000000010305072a00000044');
    // The recording ends with the server destroying the channel: the channel searches again.
    assert.deepEqual(decoded.events, ['search', 'ready', 'search']);
    assert.deepEqual(decoded.connection, ['connected', 'destroyed']);
    const layout = decoded.layout as StructureLayout;
    assert.equal(layout.type.id, 'epics:nt/NTScalar:1.0');
    assert.equal(layout.size, 34);
    // Bit numbers as QSRV lays out an ai record (docs/protocols/pvaccess.md, "Servers met in practice").
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

describe('captured pvxs update bytes decoded with the recorded QSRV ai type', () => {
  it('reads the captured first-update BitSet and its steady update (55.0 at 1795472099 s + 47149809 ns)', () => {
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
