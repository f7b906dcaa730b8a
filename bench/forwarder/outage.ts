/**
 * One outage step of the spool benchmark: the forwarder with `--spool-dir` under the step's load, Kafka stopped
 * for a window (every message waits in the spool once librdkafka's queue is full), Kafka started again with the
 * load still on (the spool replays its backlog while live messages queue behind it), then the data topic read back
 * and compared per PV with what the load source served. The forwarder's /metrics (forwarder_spool_*) and its
 * /proc entries are sampled throughout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestKafkaBroker } from '../../test/support/kafka-broker.js';
import { freePort } from '../../test/support/ports.js';
import { progress } from '../format.js';
import { CpuMeter, type CpuReading } from './cpu.js';
import { startForwarder } from './launch.js';
import { processCpuSeconds, processMemoryMb } from './process.js';
import type { BenchSettings, EpicsProtocolName, Step } from './settings.js';
import {
  awaitDrained,
  awaitEveryPv,
  comparePerPv,
  forwarderArguments,
  KindCounts,
  readBack,
  stepTopics,
} from './steps.js';
import { withSource } from './sources.js';
import { TopicScan } from './topic.js';

export interface OutageWindows {
  /** Load with Kafka up before it is stopped, so that the forwarder is warm (s). */
  readonly leadS: number;
  /** Kafka away (s). */
  readonly outageS: number;
  /** Load after the backlog has drained, before it is switched off (s). */
  readonly tailS: number;
  /** The longest the backlog may take to drain, from Kafka serving again (s); then the step goes on without. */
  readonly drainLimitS: number;
}

/** One reading of the forwarder during the step. */
export interface OutageSample {
  /** Seconds since Kafka was asked to stop. */
  readonly t: number;
  readonly appended: number;
  readonly replayed: number;
  readonly waiting: number;
  readonly spoolBytes: number;
  /** Messages the output producer's librdkafka holds (queued or in flight). */
  readonly kafkaHeld: number;
  readonly cpuS: number;
  /** The CPU of the forwarder by thread, of the broker, the source and the machine. */
  readonly cpu: CpuReading;
  readonly rssMb: number;
  /** The data topic's end offset; NaN while Kafka is away. */
  readonly endOffset: number;
}

export interface OutageResult {
  readonly protocol: EpicsProtocolName;
  readonly step: Step;
  /** Readings every SAMPLE_MS from Kafka's stop until the backlog drained, the load on, then off. */
  readonly samples: readonly OutageSample[];
  /**
   * The samples at: Kafka asked to stop, Kafka asked to start, Kafka serving, first replay, backlog drained
   * (undefined when it did not within the limit), and the last one while it drained.
   */
  readonly marks: {
    readonly down: OutageSample;
    readonly starting: OutageSample;
    readonly up: OutageSample;
    readonly firstReplay: OutageSample | undefined;
    readonly drained: OutageSample | undefined;
    readonly replayEnd: OutageSample;
    /** The load switched off, and when the backlog left then had drained (or DRAIN_WITHOUT_LOAD_LIMIT_S passed). */
    readonly loadOff: OutageSample;
    readonly drainedWithoutLoad: OutageSample;
  };
  /**
   * Load updates made between the samples `down` and `starting`, read back by their EPICS time: what the source
   * served while Kafka was away, when nothing was lost.
   */
  readonly servedWhileDown: number;
  readonly peakMb: number;
  /** The whole step, read back. */
  readonly served: number;
  readonly forwarded: number;
  readonly lost: number;
  readonly duplicated: number;
  /**
   * Messages appended to the spool over the step less those the data topic holds, once drained: 0 when the spool
   * delivered everything it took (the data topic holds nothing else), negative for duplicates.
   */
  readonly appendedNotOnKafka: number;
  /** Messages the spool refused (full, or the disk failing). */
  readonly spoolDropped: number;
  /** Whether the forwarder stopped with exit code 0 and an empty spool. */
  readonly cleanStop: boolean;
}

const SAMPLE_MS = 250;
/** The longest the backlog may take to drain once the load is off (s): the read-back needs it drained. */
const DRAIN_WITHOUT_LOAD_LIMIT_S = 300;

/** Reads a metric from the Prometheus exposition; `labels` as they are written there, e.g. `{producer="output"}`. */
function metric(exposition: string, name: string, labels = ''): number {
  const escaped = `${name}${labels}`.replace(/[{}]/g, '\\$&');
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(exposition)?.[1] ?? NaN);
}

export async function outageStep(
  settings: BenchSettings,
  broker: TestKafkaBroker,
  kafkaConfig: Record<string, string>,
  protocol: EpicsProtocolName,
  step: Step,
  windows: OutageWindows,
  directory: string,
): Promise<OutageResult> {
  const brokerAddress = broker.info.listeners.PLAINTEXT;
  return withSource(settings.source, protocol, step, directory, async (source) => {
    const names = source.names;
    const topics = await stepTopics(kafkaConfig, names, protocol);
    const scan = await TopicScan.open(kafkaConfig, topics.data);
    const httpPort = await freePort();
    const forwarder = startForwarder(
      settings,
      forwarderArguments(settings, brokerAddress, topics, httpPort),
      source.clientEnv,
    );
    const pid = forwarder.child.pid as number;
    const meter = new CpuMeter(pid, source.pid);
    let down = 0;
    let kafkaUp = true;
    const samples: OutageSample[] = [];
    const sample = async (): Promise<OutageSample> => {
      const exposition = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const reading: OutageSample = {
        t: (performance.now() - down) / 1000,
        appended: metric(exposition, 'forwarder_spool_appended_total'),
        replayed: metric(exposition, 'forwarder_spool_replayed_total'),
        waiting: metric(exposition, 'forwarder_spool_waiting_messages'),
        spoolBytes: metric(exposition, 'forwarder_spool_bytes'),
        kafkaHeld: metric(exposition, 'forwarder_kafka_in_flight_messages', '{producer="output"}'),
        cpuS: processCpuSeconds(pid),
        cpu: meter.read(),
        rssMb: processMemoryMb(pid).rss,
        // Just after a start Kafka may not answer in time: no reading then, rather than no run.
        endOffset: kafkaUp ? await scan.endOffset().catch(() => NaN) : NaN,
      };
      samples.push(reading);
      return reading;
    };
    /** Samples every SAMPLE_MS while `work` runs; the last sample is taken after it ends. */
    const sampleDuring = async <T>(work: Promise<T>): Promise<T> => {
      let finished = false;
      const done = work.finally(() => (finished = true));
      while (!finished) {
        await Promise.race([done, sleep(SAMPLE_MS)]);
        if (!finished) await sample();
      }
      await sample();
      return done;
    };
    try {
      const kinds = new KindCounts();
      const connected = await awaitEveryPv(scan, names, forwarder, kinds);
      if (connected < names.length)
        progress(`only ${connected} of ${names.length} PVs forwarding after 60 s`);
      await source.setLoad(true);
      await sleep(windows.leadS * 1000);
      progress(`${protocol}: stopping Kafka for ${windows.outageS} s`);
      kafkaUp = false;
      down = performance.now();
      const downMark = await sample();
      const downWallMs = Date.now();
      await sampleDuring(broker.stop());
      await sampleDuring(sleep(windows.outageS * 1000));
      const startWallMs = Date.now();
      const starting = samples.at(-1) as OutageSample;
      progress(`${protocol}: starting Kafka again; the spool holds ${starting.waiting} waiting messages`);
      await sampleDuring(broker.start());
      kafkaUp = true;
      const up = await sample();
      const deadline = performance.now() + windows.drainLimitS * 1000;
      let drained: OutageSample | undefined;
      let replayEnd = up;
      while (performance.now() < deadline) {
        await sleep(SAMPLE_MS);
        replayEnd = await sample();
        if (replayEnd.waiting === 0) {
          drained = replayEnd;
          break;
        }
      }
      if (drained === undefined)
        progress(`${protocol}: the backlog did not drain within ${windows.drainLimitS} s`);
      else
        progress(`${protocol}: the backlog drained ${(drained.t - up.t).toFixed(1)} s after Kafka was back`);
      await sleep(windows.tailS * 1000);
      await source.setLoad(false);
      const loadOff = await sample();
      // What still waits drains without the load: the replay's rate when it has the forwarder to itself.
      let drainedWithoutLoad = loadOff;
      const offDeadline = performance.now() + DRAIN_WITHOUT_LOAD_LIMIT_S * 1000;
      while (drainedWithoutLoad.waiting > 0 && performance.now() < offDeadline) {
        await sleep(SAMPLE_MS);
        drainedWithoutLoad = await sample();
      }
      await awaitDrained(scan);
      const end = await sample();
      const spoolDropped = metric(
        await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(),
        'forwarder_spool_dropped_total',
      );
      const { peak: peakMb } = processMemoryMb(pid);
      const final = await source.counts();
      const exit = await forwarder.stop('SIGTERM', 60_000);
      const read = await readBack(scan, names, kinds);
      const compared = comparePerPv(final, read.perPv);
      const firstReplay = samples.find(
        (reading) => reading.t > starting.t && reading.replayed > starting.replayed,
      );
      return {
        protocol,
        step,
        samples,
        marks: { down: downMark, starting, up, firstReplay, drained, replayEnd, loadOff, drainedWithoutLoad },
        servedWhileDown: read.epicsMs.filter((ms) => ms >= downWallMs && ms < startWallMs).length,
        peakMb,
        ...compared,
        appendedNotOnKafka: end.appended - end.endOffset,
        spoolDropped,
        cleanStop: exit.code === 0 && !/wait in the spool for the next start/.test(forwarder.output),
      };
    } finally {
      if (!broker.running) await broker.start();
      await forwarder.stop('SIGKILL', 5_000);
      await scan.close();
    }
  });
}
