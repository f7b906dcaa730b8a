/**
 * The status page as served: self-contained, its one inline script allowed by hash and nothing else, and the
 * script's helpers (ages, filter, order, cells) run here without a browser. The page in a browser:
 * test/integration/operability/status-page.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { StreamEntry } from '../../../src/observability/status-document.js';
import { PAGE_SCRIPT } from '../../../src/observability/status-page-script.js';
import { STATUS_PAGE_HTML, STATUS_PAGE_POLICY } from '../../../src/observability/status-page.js';

type Cell = [text: string, title: string, className: string];

interface PageHelpers {
  formatAge(seconds: number): string;
  words(key: string): string;
  stateLabel(stream: StreamEntry): string;
  matches(stream: StreamEntry, text: string, state: string): boolean;
  ordered(streams: readonly StreamEntry[], key: string, descending: boolean): StreamEntry[];
  cells(stream: StreamEntry, nowMs: number): Cell[];
}

// The script starts only where there is a document; here it just defines its helpers.
const helpers = new Function(`${PAGE_SCRIPT}\nreturn pageHelpers();`)() as PageHelpers;

const nowMs = Date.parse('2026-01-01T12:00:00Z');

function stream(overrides: Partial<StreamEntry> = {}): StreamEntry {
  return {
    pv: 'SIM:TEMP',
    protocol: 'ca',
    topic: 'sample_env',
    schema: 'f144',
    periodic: false,
    state: 'connected',
    since: '2026-01-01T11:00:00.000Z',
    server: '10.0.0.5:5064',
    problem: null,
    reason: null,
    value: '21.50 degC',
    alarm: { severity: 'NO_ALARM', message: 'NO_ALARM' },
    lastUpdate: '2026-01-01T11:59:58.000Z',
    updates: 10,
    messages: 12,
    resends: 0,
    rejected: { timestamp: 1, unsupported: 2, error: 0 },
    ...overrides,
  };
}

describe('status page', () => {
  it('is one document with no external resource, its script allowed by its hash only', () => {
    assert.doesNotMatch(STATUS_PAGE_HTML, /src=|https?:|<link|@import|url\(/);
    const scripts = [...STATUS_PAGE_HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    const hash = createHash('sha256')
      .update(scripts[0]?.[1] ?? '')
      .digest('base64');
    assert.match(STATUS_PAGE_POLICY, new RegExp(`script-src 'sha256-${hash.replace(/[+/]/g, '\\$&')}';`));
    assert.match(STATUS_PAGE_POLICY, /^default-src 'none';/);
    assert.match(STATUS_PAGE_POLICY, /connect-src 'self';/);
    assert.doesNotMatch(STATUS_PAGE_POLICY, /unsafe-eval|script-src[^;]*unsafe-inline/);
  });

  it('formats ages and figure names', () => {
    assert.deepEqual([0, 119, 120, 7199, 7200, 172_800].map(helpers.formatAge), [
      '0 s',
      '119 s',
      '2 min',
      '120 min',
      '2 h',
      '2 d',
    ]);
    assert.equal(helpers.words('deliveryErrors'), 'delivery errors');
    assert.equal(helpers.words('partition_count'), 'partition count');
  });

  it('shows each stream as its cells: state, ages from the server time, value, alarm, reason', () => {
    const [pv, state, since, value, alarm, lastUpdate, server, reason, , schema, , , , rejected] =
      helpers.cells(stream(), nowMs);
    assert.deepEqual(
      [pv, state, since, value, alarm, lastUpdate, server, reason, schema, rejected]?.map(
        (cell) => cell?.[0],
      ),
      [
        'SIM:TEMP',
        'connected',
        '60 min',
        '21.50 degC',
        'NO_ALARM',
        '2 s ago',
        '10.0.0.5:5064',
        '',
        'f144',
        '3',
      ],
    );
    const lost = helpers.cells(
      stream({
        state: 'remote_error',
        problem: 'disconnected',
        reason: 'server gone',
        lastUpdate: null,
        alarm: { severity: 'MAJOR', message: 'HIHI' },
      }),
      nowMs,
    );
    assert.deepEqual(
      [lost[1], lost[4], lost[5], lost[7]],
      [
        ['remote error', '', 'state disconnected'],
        ['MAJOR HIHI', '', 'alarm-MAJOR'],
        ['never', '', ''],
        ['server gone', 'server gone', 'reason'],
      ],
    );
    assert.equal(helpers.cells(stream({ problem: 'rejecting' }), nowMs)[1]?.[0], 'rejecting');
  });

  it('filters by words in PV, topic, server or reason, and by state', () => {
    const lost = stream({
      pv: 'BL:MOTOR',
      state: 'disconnected',
      problem: 'disconnected',
      reason: 'IOC gone',
    });
    assert.ok(helpers.matches(stream(), 'temp SAMPLE', ''));
    assert.ok(!helpers.matches(stream(), 'temp motion', ''));
    assert.ok(helpers.matches(stream(), '10.0.0.5', ''));
    assert.ok(helpers.matches(lost, 'ioc gone', 'problem'));
    assert.ok(helpers.matches(lost, '', 'disconnected'));
    assert.ok(!helpers.matches(lost, '', 'never_connected'));
    assert.ok(!helpers.matches(lost, '', 'ok'));
    assert.ok(helpers.matches(stream(), '', 'ok'));
    assert.ok(!helpers.matches(stream(), '', 'problem'));
  });

  it("sorts by a column, missing values last, and keeps the server's order otherwise", () => {
    const streams = [
      stream({ pv: 'C', updates: 5, lastUpdate: null }),
      stream({ pv: 'A', updates: 50, lastUpdate: '2026-01-01T11:00:00.000Z' }),
      stream({ pv: 'B', updates: 7, lastUpdate: '2026-01-01T11:30:00.000Z' }),
    ];
    const pvs = (sorted: StreamEntry[]): string[] => sorted.map((each) => each.pv);
    assert.deepEqual(pvs(helpers.ordered(streams, '', false)), ['C', 'A', 'B']);
    assert.deepEqual(pvs(helpers.ordered(streams, 'pv', false)), ['A', 'B', 'C']);
    assert.deepEqual(pvs(helpers.ordered(streams, 'pv', true)), ['C', 'B', 'A']);
    assert.deepEqual(pvs(helpers.ordered(streams, 'updates', false)), ['A', 'B', 'C'], 'most first');
    assert.deepEqual(pvs(helpers.ordered(streams, 'lastUpdate', false)), ['B', 'A', 'C'], 'newest first');
    assert.deepEqual(pvs(helpers.ordered(streams, 'lastUpdate', true)), ['A', 'B', 'C'], 'never, last');
  });
});
