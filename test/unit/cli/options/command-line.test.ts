/** The command line: help, version, and mistakes that commander or the left-over arguments show. */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { launcherOptionTable } from '../../../../src/cli/options/table.js';
import { packageVersion } from '../../../../src/util/package-version.js';
import { itRefuses, minimal, type MistakeCase, parse } from './support.js';

describe('launcher options: help and version', () => {
  it('prints help to stdout with exit code 0', () => {
    for (const flag of ['--help', '-h']) {
      const outcome = parse([flag]);
      assert.equal(outcome.kind, 'exit');
      assert.equal(outcome.code, 0);
      assert.match(outcome.output, /^Usage: forwarder-launch \[options\]/);
      for (const spec of Object.values(launcherOptionTable)) {
        assert.ok(outcome.output.includes(`--${spec.long}`), spec.long);
        assert.ok(outcome.output.includes(`[${spec.env}]`), spec.env);
      }
      assert.equal(outcome.output.match(/\(required\)/g)?.length, 3);
      assert.match(
        outcome.output,
        /--version +print the version and exit\n +-h, --help +print this help and exit/,
      );
      assert.ok(outcome.output.includes('Kafka URI: [PROTOCOL+][MECHANISM\\][user@]host:port'));
      assert.ok(outcome.output.endsWith('\n'));
      for (const line of outcome.output.split('\n')) assert.ok(line.length <= 100, line);
    }
  });

  it('prints help even when required options are missing or others are wrong', () => {
    const outcome = parse(['--pv-update-period', 'abc', '--help']);
    assert.equal(outcome.kind === 'exit' && outcome.code, 0);
  });

  it('prints the package version with exit code 0', () => {
    assert.deepEqual(parse(['--version']), { kind: 'exit', code: 0, output: `${packageVersion}\n` });
    assert.deepEqual(parse([...minimal, '--version']), {
      kind: 'exit',
      code: 0,
      output: `${packageVersion}\n`,
    });
  });

  it('never exits the process or writes to stdout or stderr itself', () => {
    const exit = mock.method(process, 'exit', () => {
      throw new Error('process.exit called');
    });
    const stdout = mock.method(process.stdout, 'write', () => true);
    const stderr = mock.method(process.stderr, 'write', () => true);
    try {
      for (const argv of [['--help'], ['--version'], ['--bogus'], ['--config-topic'], minimal, []])
        parse(argv);
    } finally {
      const calls = [exit.mock.callCount(), stdout.mock.callCount(), stderr.mock.callCount()];
      exit.mock.restore();
      stdout.mock.restore();
      stderr.mock.restore();
      assert.deepEqual(calls, [0, 0, 0]);
    }
  });
});

describe('launcher options: command-line mistakes are one line and exit code 2', () => {
  const cases: readonly MistakeCase[] = [
    [
      'unknown option',
      [...minimal, '--config-topics', 'x'],
      {},
      'unknown option --config-topics (did you mean --config-topic?)',
    ],
    ['unknown option far from any', [...minimal, '--frobnicate'], {}, 'unknown option --frobnicate'],
    ['unknown short option', [...minimal, '-x'], {}, 'unknown option -x'],
    [
      'flag with a value',
      [...minimal, '--skip-retrieval=yes'],
      {},
      '--skip-retrieval is a flag and takes no value',
    ],
    ['--version with a value', [...minimal, '--version=2'], {}, '--version is a flag and takes no value'],
    [
      'missing value',
      [...minimal, '--pv-update-period'],
      {},
      "option '--pv-update-period <ms>' argument missing",
    ],
    [
      'positional argument',
      [...minimal, 'extra'],
      {},
      'unexpected argument (not shown, as it could be a password): every setting is an option, e.g. --config-topic <uri>',
    ],
  ];

  itRefuses(cases);
});
