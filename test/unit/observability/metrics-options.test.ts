import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseLauncherArguments } from '../../../src/cli/options/resolve.js';

const required = ['--config-topic', 'k:9092/c', '--status-topic', 'k:9092/s', '--output-broker', 'k:9092'];

function metricsOptions(argv: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const outcome = parseLauncherArguments([...required, ...argv], env);
  assert.equal(outcome.kind, 'run', outcome.kind === 'exit' ? outcome.output : '');
  const { httpAddress, metricsPerPv, grafanaCarbonAddress, statisticsUpdateIntervalS } = outcome.options;
  return { httpAddress, metricsPerPv, grafanaCarbonAddress, statisticsUpdateIntervalS };
}

describe('metrics options', () => {
  it('are off by default, Carbon every 10 s when on', () => {
    assert.deepEqual(metricsOptions([]), {
      httpAddress: undefined,
      metricsPerPv: undefined,
      grafanaCarbonAddress: undefined,
      statisticsUpdateIntervalS: 10,
    });
  });

  it('come from the command line, the environment and a config file', () => {
    const expected = {
      httpAddress: { host: '127.0.0.1', port: 8080 },
      metricsPerPv: true,
      grafanaCarbonAddress: { host: 'carbon', port: 2003 },
      statisticsUpdateIntervalS: 30,
    };
    assert.deepEqual(
      metricsOptions([
        '--http-address',
        '127.0.0.1:8080',
        '--metrics-per-pv',
        '--grafana-carbon-address',
        'carbon',
        '--statistics-update-interval',
        '30',
      ]),
      expected,
    );
    assert.deepEqual(
      metricsOptions([], {
        HTTP_ADDRESS: '127.0.0.1:8080',
        METRICS_PER_PV: 'yes',
        GRAFANA_CARBON_ADDRESS: 'carbon:2003',
        STATISTICS_UPDATE_INTERVAL: '30',
      }),
      expected,
    );
    const directory = mkdtempSync(join(tmpdir(), 'ekf-metrics-options-'));
    try {
      const file = join(directory, 'forwarder.conf');
      writeFileSync(
        file,
        'http-address=127.0.0.1:8080\nmetrics-per-pv\ngrafana-carbon-address=carbon\nstatistics-update-interval=30\n',
      );
      assert.deepEqual(metricsOptions(['--config-file', file]), expected);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('take false for the per-PV flag, and refuse a value on the command line', () => {
    assert.equal(metricsOptions([], { METRICS_PER_PV: 'false' }).metricsPerPv, false);
    const outcome = parseLauncherArguments([...required, '--metrics-per-pv=yes'], {});
    assert.equal(outcome.kind, 'exit');
    assert.match(
      outcome.kind === 'exit' ? outcome.output : '',
      /--metrics-per-pv is a flag and takes no value/,
    );
  });
});
