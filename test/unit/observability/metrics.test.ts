import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  escapeLabelValue,
  exponentialBuckets,
  formatValue,
  Histogram,
  MetricsError,
  MetricsRegistry,
  renderExposition,
} from '../../../src/observability/metrics.js';

describe('Histogram', () => {
  it('counts each observation in the first bucket whose bound is not below it', () => {
    const histogram = new Histogram([0.1, 1, 10]);
    for (const value of [0, 0.1, 0.5, 1, 1.0001, 10, 11, 1e9]) histogram.observe(value);
    assert.deepEqual(histogram.snapshot(), {
      upperBounds: [0.1, 1, 10],
      cumulativeCounts: [2, 4, 6],
      sum: 0 + 0.1 + 0.5 + 1 + 1.0001 + 10 + 11 + 1e9,
      count: 8,
    });
  });

  it('puts negative values in the first bucket and ignores NaN', () => {
    const histogram = new Histogram([1]);
    histogram.observe(-5);
    histogram.observe(NaN);
    assert.deepEqual(histogram.snapshot(), { upperBounds: [1], cumulativeCounts: [1], sum: -5, count: 1 });
  });

  it('refuses empty, unordered or infinite bounds', () => {
    assert.throws(() => new Histogram([]), MetricsError);
    assert.throws(() => new Histogram([1, 1]), MetricsError);
    assert.throws(() => new Histogram([2, 1]), MetricsError);
    assert.throws(() => new Histogram([1, Infinity]), MetricsError);
  });

  it('exponentialBuckets multiplies from the start', () => {
    assert.deepEqual(exponentialBuckets(0.001, 10, 4), [0.001, 0.01, 0.1, 1]);
  });
});

describe('MetricsRegistry', () => {
  it('renders counters, labelled gauges and histograms in the text format', () => {
    const registry = new MetricsRegistry();
    let sent = 3;
    registry.counter('demo_sent_total', 'Messages sent.', () => sent);
    registry.gauge('demo_streams', 'Streams by state.', () => [
      { labels: { state: 'connected' }, value: 2 },
      { labels: { state: 'disconnected' }, value: 0 },
    ]);
    const latency = registry.histogram('demo_latency_seconds', 'Latency.', [0.5, 1]);
    latency.observe(0.25);
    latency.observe(2);
    sent = 4;
    assert.equal(
      registry.exposition(),
      [
        '# HELP demo_sent_total Messages sent.',
        '# TYPE demo_sent_total counter',
        'demo_sent_total 4',
        '# HELP demo_streams Streams by state.',
        '# TYPE demo_streams gauge',
        'demo_streams{state="connected"} 2',
        'demo_streams{state="disconnected"} 0',
        '# HELP demo_latency_seconds Latency.',
        '# TYPE demo_latency_seconds histogram',
        'demo_latency_seconds_bucket{le="0.5"} 1',
        'demo_latency_seconds_bucket{le="1"} 1',
        'demo_latency_seconds_bucket{le="+Inf"} 2',
        'demo_latency_seconds_sum 2.25',
        'demo_latency_seconds_count 2',
        '',
      ].join('\n'),
    );
  });

  it('adds families from collectors when scraped', () => {
    const registry = new MetricsRegistry();
    let clients = 0;
    registry.collector(() =>
      Array.from({ length: clients }, (_, index) => ({
        name: `demo_client${index}_bytes_total`,
        help: 'Bytes.',
        type: 'counter' as const,
        samples: [{ value: index }],
      })),
    );
    assert.equal(registry.exposition(), '');
    clients = 2;
    assert.deepEqual(
      registry.collect().map((family) => family.name),
      ['demo_client0_bytes_total', 'demo_client1_bytes_total'],
    );
  });

  it('refuses bad names, repeated names and counters without _total', () => {
    const registry = new MetricsRegistry();
    registry.gauge('demo_ok', 'OK.', () => 1);
    assert.throws(() => registry.gauge('demo_ok', 'Again.', () => 1), /registered twice/);
    assert.throws(() => registry.gauge('1demo', 'Bad.', () => 1), /not a valid metric name/);
    assert.throws(() => registry.gauge('demo-x', 'Bad.', () => 1), /not a valid metric name/);
    assert.throws(() => registry.counter('demo_count', 'Bad.', () => 1), /_total/);
    registry.collector(() => [{ name: 'demo_ok', help: 'Clash.', type: 'gauge', samples: [] }]);
    assert.throws(() => registry.collect(), /registered twice/);
  });

  it('refuses bad label names when rendering', () => {
    assert.throws(
      () =>
        renderExposition([
          { name: 'demo', help: 'x', type: 'gauge', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] },
        ]),
      /not a valid label name/,
    );
    assert.throws(
      () =>
        renderExposition([
          { name: 'demo', help: 'x', type: 'gauge', samples: [{ labels: { __name: 'x' }, value: 1 }] },
        ]),
      /not a valid label name/,
    );
  });

  it('escapes label values and help text, and writes special values', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.deepEqual([NaN, Infinity, -Infinity, 1.5, -0.25, 1e21].map(formatValue), [
      'NaN',
      '+Inf',
      '-Inf',
      '1.5',
      '-0.25',
      '1e+21',
    ]);
    const text = renderExposition([
      { name: 'demo', help: 'back\\slash\nnewline', type: 'gauge', samples: [{ value: 1 }] },
    ]);
    assert.match(text, /^# HELP demo back\\\\slash\\nnewline$/m);
  });
});
