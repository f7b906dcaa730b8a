/**
 * The demo: a local Kafka broker, a demo IOC, forwarder-launch started from a config file with its status page
 * on, a few CA, PVA and fake streams added with forwarder-ctl, decoded messages shown as they arrive, then
 * `forwarder-ctl status` and where to look next. Everything stays on loopback and stops on Ctrl-C, or after
 * `--duration N` seconds of forwarding. Run: npx tsx scripts/demo.ts [--duration N]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForwarderProcess } from '../test/support/forwarder.js';
import { TestIoc } from '../test/support/ioc.js';
import type { KafkaBrokerInfo } from '../test/support/kafka-broker.js';
import { TestKafkaBroker } from '../test/support/kafka-broker.js';
import { clientConfig, createTopics, uniqueTopic } from '../test/support/kafka.js';
import { NtNdArrayServer } from '../test/support/ntndarray-server.js';
import { cacheDir, repoRoot, venvPython } from '../test/support/paths.js';
import { freePort } from '../test/support/ports.js';

const usage = 'usage: npm run demo [-- --duration SECONDS]';
/** How long decoded messages are shown before the status; shorter when the whole run is. */
const TAIL_SECONDS = 20;
/** Tail lines are cut to this width, so arrays do not flood the terminal. */
const LINE_WIDTH = 120;

function parseDuration(args: readonly string[]): number | undefined {
  if (args.length === 0) return undefined;
  const [flag, value] = args;
  const seconds = Number(value);
  if (flag !== '--duration' || args.length !== 2 || !Number.isInteger(seconds) || seconds < 1) {
    console.error(usage);
    process.exit(2);
  }
  return seconds;
}

const durationS = parseDuration(process.argv.slice(2));

/**
 * The demo runs in a process group of its own, so the terminal's Ctrl-C reaches only this launcher, which
 * passes it on: the demo then stops its processes in order (the forwarder flushes while the broker is still
 * up) instead of all of them getting the signal at once. A second Ctrl-C ends the whole group at once.
 */
const SESSION_ENV = 'EKF_DEMO_SESSION';
if (process.env[SESSION_ENV] === undefined) {
  const session = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      detached: true,
      stdio: 'inherit',
      env: { ...process.env, [SESSION_ENV]: '1' },
    },
  );
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (signalled && session.pid !== undefined) process.kill(-session.pid, 'SIGKILL');
      else session.kill(signal);
      signalled = true;
    });
  }
  const [code] = (await once(session, 'exit')) as [number | null];
  process.exit(code ?? 130);
}
const say = (text = ''): void => {
  if (process.stdout.writable) process.stdout.write(`${text}\n`);
};
const step = (text: string): void => say(`\n== ${text}`);

/** The Kafka jars and certificates and the Python environment (EPICS IOC) come from scripts/setup.sh. */
function ensureSetUp(): void {
  const kafkaVersion = /<kafka\.version>(.+)<\/kafka\.version>/.exec(
    readFileSync(join(repoRoot, 'test', 'env', 'kafka', 'pom.xml'), 'utf8'),
  )?.[1];
  const needed = [join(cacheDir, `kafka-${kafkaVersion}`, 'libs'), join(cacheDir, 'kafka-certs'), venvPython];
  if (needed.every((path) => existsSync(path))) return;
  step('First run: installing the Kafka broker and the EPICS test environment (scripts/setup.sh)');
  const setup = spawnSync('bash', [join(repoRoot, 'scripts', 'setup.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) {
    console.error('scripts/setup.sh failed; see above');
    process.exit(1);
  }
}

/** forwarder-ctl from the sources, as the tests run it. */
function ctl(args: readonly string[]): ChildProcess {
  // A generous bound on reaching Kafka: the demo may run on a busy machine.
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'ctl', 'forwarder-ctl.ts'), '--timeout', '30', ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
}

/** Runs forwarder-ctl to its end; a failure is tried once more (a first connection can fail on a busy host). */
async function ctlOutput(args: readonly string[], attempts = 2): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const child = ctl(args);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code === 0) return output;
    if (attempt >= attempts) throw new Error(`forwarder-ctl ${args.join(' ')} exited with ${code}`);
    say('  (trying once more)');
  }
}

/** `forwarder-ctl tail --format text` printing each message's line; restarted (twice at most) if it fails. */
const cutToWidth = (line: string): string =>
  line.length > LINE_WIDTH ? `${line.slice(0, LINE_WIDTH - 1)}…` : line;

class Tail {
  private child: ChildProcess | undefined;
  private restarts = 0;
  private stopped = false;

  constructor(private readonly args: readonly string[]) {
    this.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    await once(child, 'exit');
  }

  private start(): void {
    const child = ctl(this.args);
    this.child = child;
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line !== '') say(`  ${cutToWidth(line)}`);
    });
    child.once('exit', (code) => {
      if (this.stopped || code === 0 || code === null) return;
      if (this.restarts++ < 2) {
        say('  (forwarder-ctl tail failed; starting it again)');
        this.start();
      }
    });
  }
}

let interrupted = false;
let stopRequested: () => void = () => undefined;
const interruption = new Promise<void>((resolveInterrupt) => (stopRequested = resolveInterrupt));
function requestStop(why: string): void {
  if (interrupted) return;
  interrupted = true;
  say(`\n${why}: stopping (Ctrl-C again to quit at once)...`);
  stopRequested();
}
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  requestStop('Interrupted');
});
for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => requestStop(signal));
// Output piped into `head` and closed early: stop and clean up rather than die and leave processes behind.
process.stdout.on('error', () => requestStop('Output closed'));
/** Thrown between steps once a stop was asked for: straight to clean-up. */
class Stopped extends Error {}
function proceed(): void {
  if (interrupted) throw new Stopped();
}
const pause = (seconds: number): Promise<void> =>
  Promise.race([new Promise<void>((resolveWait) => setTimeout(resolveWait, seconds * 1000)), interruption]);

const cleanUp: (() => Promise<unknown>)[] = [];
let exitCode = 0;
try {
  ensureSetUp();
  const workDir = mkdtempSync(join(tmpdir(), 'forwarder-demo-'));
  cleanUp.push(async () => rmSync(workDir, { recursive: true, force: true }));

  // The test runner's broker when there is one (EKF_TEST_KAFKA), otherwise our own.
  let broker: KafkaBrokerInfo;
  const shared = process.env['EKF_TEST_KAFKA'];
  if (shared) {
    broker = JSON.parse(readFileSync(shared, 'utf8')) as KafkaBrokerInfo;
  } else {
    step('Starting a Kafka broker on loopback');
    const own = await TestKafkaBroker.start();
    cleanUp.push(() => own.destroy());
    broker = own.info;
  }
  const address = broker.listeners.PLAINTEXT;
  say(`Kafka broker: ${address}`);
  const name = (stem: string): string => (shared ? uniqueTopic(`demo_${stem}`) : `demo_${stem}`);
  const topics = {
    config: name('commands'),
    status: name('status'),
    storage: name('storage'),
    data: name('data'),
  };
  await createTopics(clientConfig(broker, { listener: 'PLAINTEXT' }), Object.values(topics));

  proceed();
  step('Starting the demo IOC (EPICS base softIoc, CA and PVA on loopback)');
  const ioc = await TestIoc.start({ prefix: 'DEMO:' });
  cleanUp.push(() => ioc.stop());
  say(
    `IOC: CA on port ${ioc.ports.caServerPort}, PVA on port ${ioc.ports.pvaServerPort}; records DEMO:sine, DEMO:counter, DEMO:hist, ...`,
  );

  proceed();
  step('Starting an image server (p4p, NTNDArray as areaDetector serves it over pvAccess)');
  const images = await NtNdArrayServer.start(['image']);
  cleanUp.push(() => images.stop());
  await images.stream({ dtype: 'uint16', shape: [48, 64], rateHz: 2, count: 0 });
  say(
    `Image server: ${images.pv()}, 64x48 uint16 frames, a pattern moving one pixel a frame, twice a second`,
  );

  proceed();
  step('Starting forwarder-launch from a config file');
  const httpPort = await freePort();
  const configFile = join(workDir, 'forwarder.conf');
  const logFile = join(workDir, 'forwarder.log');
  writeFileSync(
    configFile,
    [
      '# forwarder-launch options, one per line: the long option name without "--"',
      `config-topic=${address}/${topics.config}`,
      `status-topic=${address}/${topics.status}`,
      `storage-topic=${address}/${topics.storage}`,
      `output-broker=${address}`,
      'service-id=demo',
      'status-interval=2000',
      'fake-pv-period=500',
      `http-address=127.0.0.1:${httpPort}`,
      `log-file=${logFile}`,
      '',
    ].join('\n'),
  );
  say(readFileSync(configFile, 'utf8').trimEnd());
  // The EPICS client environment finds only the demo IOC and the image server, on loopback.
  const forwarder = ForwarderProcess.start(['--config-file', configFile], {
    ...ioc.clientEnv,
    EPICS_PVA_ADDR_LIST: `127.0.0.1:${ioc.ports.pvaBroadcastPort} ${images.searchAddress}`,
  });
  cleanUp.push(() => forwarder.stop('SIGTERM'));
  const deadline = Date.now() + 60_000;
  while (!/Listening for commands/.test(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')) {
    if (forwarder.child.exitCode !== null) throw new Error(`forwarder-launch exited:\n${forwarder.output}`);
    if (Date.now() > deadline) throw new Error('forwarder-launch did not start within 60 s');
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  say(`forwarder-launch is running; its log: ${logFile}`);

  proceed();
  step(`Showing decoded messages on ${topics.data} (forwarder-ctl tail --format text)`);
  const tail = new Tail(['--broker', address, 'tail', topics.data, '--format', 'text']);
  cleanUp.push(() => tail.stop());
  // Give tail a moment to join the topic before the first messages arrive.
  await pause(3);

  const streams = [
    ['DEMO:sine', 'ca', topics.data, 'f144'],
    ['DEMO:mbbi', 'ca', topics.data, 'f144'],
    ['DEMO:stringin', 'ca', topics.data, 'f142'],
    ['DEMO:counter', 'pva', topics.data, 'f144'],
    ['DEMO:hist', 'pva', topics.data, 'f144'],
    ['DEMO:FAKE:1', 'fake', topics.data, 'f144'],
    [images.pv(), 'pva', topics.data, 'ad00'],
  ];
  proceed();
  const addArgs = ['--broker', `${address}/${topics.config}`, 'add', ...streams.flat()];
  say(`$ forwarder-ctl ${addArgs.join(' ')}`);
  say((await ctlOutput(addArgs)).trimEnd());
  const forwardingStarted = Date.now();

  await pause(durationS === undefined ? TAIL_SECONDS : Math.min(TAIL_SECONDS, durationS));
  await tail.stop();

  if (!interrupted) {
    step('What the forwarder reports on its status topic');
    const statusArgs = ['--broker', `${address}/${topics.status}`, 'status'];
    say(`$ forwarder-ctl ${statusArgs.join(' ')}`);
    say((await ctlOutput(statusArgs)).trimEnd());

    step('Where to look next');
    say(`Status page:   http://127.0.0.1:${httpPort}/`);
    say(`Metrics:       http://127.0.0.1:${httpPort}/metrics   (Prometheus)`);
    say(`Health:        http://127.0.0.1:${httpPort}/healthz`);
    say(`Stream status: http://127.0.0.1:${httpPort}/status.json`);
    say(`Forwarder log: ${logFile}`);
    say(
      `Try:           npx tsx src/ctl/forwarder-ctl.ts --broker ${address}/${topics.config} remove 'DEMO:*'`,
    );
    say('Read:          docs/forwarder-ctl.md (the tool), docs/operations.md (metrics, health, Graphite)');
    if (durationS === undefined) {
      say('\nThe demo keeps running; press Ctrl-C to stop it and clean up.');
      await interruption;
    } else {
      await pause(Math.max(0, durationS - (Date.now() - forwardingStarted) / 1000));
    }
  }
} catch (error) {
  if (!(error instanceof Stopped)) {
    console.error(`demo: ${(error as Error).message}`);
    exitCode = 1;
  }
} finally {
  step('Cleaning up');
  for (const undo of cleanUp.reverse()) {
    try {
      await undo();
    } catch (error) {
      console.error(`demo: while cleaning up: ${(error as Error).message}`);
    }
  }
  say('Done.');
}
process.exit(exitCode);
