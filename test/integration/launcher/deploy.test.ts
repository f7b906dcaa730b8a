/**
 * The deployment files in deploy/: the example config file is valid for the real option parser, as shipped and
 * with every commented-out setting switched on; the systemd unit passes `systemd-analyze verify` (where systemd
 * is installed) and keeps the promises the README makes about it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SHUTDOWN_FLUSH_MS } from '../../../src/cli/daemon.js';
import type { LauncherOptions } from '../../../src/cli/launcher-options.js';
import { parseLauncherArguments } from '../../../src/cli/options/resolve.js';
import { launcherOptionTable } from '../../../src/cli/options/table.js';
import { launcherNodeOptions, UNIT_FILE, unitSettings } from '../../support/deployment.js';
import { repoRoot } from '../../support/paths.js';

const exampleConfig = join(repoRoot, 'deploy', 'forwarder.conf.example');
const dir = mkdtempSync(join(tmpdir(), 'ekf-deploy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function parseConfigFile(path: string, env: NodeJS.ProcessEnv = {}): LauncherOptions {
  const outcome = parseLauncherArguments(['--config-file', path], env);
  assert.equal(outcome.kind, 'run', outcome.kind === 'exit' ? outcome.output : '');
  return outcome.options;
}

const optionNames = new Set<string>(Object.values(launcherOptionTable).map((spec) => spec.long));
/** `#name = value` or `#name` where name is an option: a setting the example shows switched off. */
const commentedSetting = /^#([a-z-]+)(?=\s*[=:\s]|$)/;

describe('deploy/forwarder.conf.example', () => {
  it('is a valid config file as shipped', () => {
    const options = parseConfigFile(exampleConfig);
    assert.equal(options.configTopic.uri.topic, 'forwarder_commands');
    assert.equal(options.statusTopic.uri.topic, 'forwarder_status');
    assert.equal(options.storageTopic?.uri.topic, 'forwarder_storage');
    assert.equal(options.outputBroker.uri.brokers, 'kafka1.example.org:9092,kafka2.example.org:9092');
    assert.equal(options.serviceId, 'forwarder-1');
    assert.equal(options.verbosity, 'Info');
  });

  it('stays valid with every commented-out setting switched on', () => {
    // The files it names, in a scratch directory instead of /etc/forwarder and /var/log/forwarder.
    const etc = join(dir, 'etc');
    const logs = join(dir, 'log');
    const state = join(dir, 'lib');
    mkdirSync(etc);
    mkdirSync(logs);
    mkdirSync(state);
    for (const name of ['kafka-ca.pem', 'forwarder.pem', 'forwarder.key'])
      writeFileSync(join(etc, name), 'PEM');

    const lines = readFileSync(exampleConfig, 'utf8').split('\n');
    const switchedOn = lines.flatMap((line) => {
      const name = commentedSetting.exec(line)?.[1];
      return name !== undefined && optionNames.has(name) ? [{ name, line: line.slice(1) }] : [];
    });
    assert.ok(switchedOn.length >= 10, `found ${switchedOn.length} commented-out settings`);
    const replaced = new Set(switchedOn.map(({ name }) => name));
    const active = lines.filter((line) => {
      const name = /^([a-z-]+)/.exec(line)?.[1];
      return name === undefined || !replaced.has(name);
    });
    const everything = join(dir, 'everything.conf');
    writeFileSync(
      everything,
      [...active, ...switchedOn.map(({ line }) => line)]
        .join('\n')
        .replaceAll('/etc/forwarder/', `${etc}/`)
        .replaceAll('/var/log/forwarder/', `${logs}/`)
        .replaceAll('/var/lib/forwarder/', `${state}/`),
    );
    const options = parseConfigFile(everything, { CONFIG_TOPIC_SASL_PASSWORD: 'secret' });
    assert.equal(options.configTopic.uri.securityProtocol, 'SASL_SSL');
    assert.equal(options.tls.certificateFile, join(etc, 'forwarder.pem'));
    assert.deepEqual(options.graylogLoggerAddress, {
      host: 'graylog.example.org',
      port: 12201,
      protocol: 'tcp',
    });
    assert.equal(options.pvUpdatePeriodMs, 10_000);
    assert.equal(options.spool?.dir, join(state, 'spool'));
    assert.equal(options.skipRetrieval, true);
  });
});

describe('deploy/forwarder.service', () => {
  const text = readFileSync(UNIT_FILE, 'utf8');
  const settings = unitSettings(text);

  it('runs forwarder-launch with the config file, as a dedicated user, restarting on failure', () => {
    assert.match(
      settings.get('ExecStart') ?? '',
      /^\/\S+\/node (--\S+ )*\/\S+\/bin\/forwarder-launch --config-file \/etc\/forwarder\/forwarder\.conf$/,
    );
    assert.equal(settings.get('User'), 'forwarder');
    assert.equal(settings.get('Restart'), 'on-failure');
    assert.equal(
      settings.get('RestartPreventExitStatus'),
      '2',
      'no restarts after a mistake in the settings',
    );
    assert.equal(settings.get('KillSignal'), 'SIGTERM');
  });

  it("gives node the options of forwarder-launch's #! line, and malloc settings", () => {
    const nodeOptions = launcherNodeOptions();
    assert.ok(nodeOptions, 'no Node options on the #! line of bin/forwarder-launch');
    const execStart = settings.get('ExecStart') ?? '';
    assert.ok(execStart.includes(`/node ${nodeOptions} /`), execStart);
    assert.equal(settings.get('Environment'), 'MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072');
  });

  it('gives the shutdown flush time enough before killing the forwarder', () => {
    const stopTimeoutS = Number(/^(\d+)s$/.exec(settings.get('TimeoutStopSec') ?? '')?.[1]);
    // The PV data flush, then the status and storage producers' (up to 5 s, side by side), then the log (3 s).
    const worstCaseS = SHUTDOWN_FLUSH_MS / 1000 + 5 + 3;
    assert.ok(
      stopTimeoutS >= worstCaseS + 10,
      `TimeoutStopSec ${stopTimeoutS} s, shutdown takes up to ${worstCaseS} s`,
    );
  });

  const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  it('passes systemd-analyze verify', { skip: !systemdAnalyze && 'systemd-analyze is not installed' }, () => {
    // With this Node in ExecStart, since verify checks that the command exists.
    const copy = join(dir, 'forwarder.service');
    writeFileSync(copy, text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
    const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', 'no warnings');
  });
});
