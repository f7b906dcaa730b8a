/** What one run of the end-to-end benchmark is asked to do (bench/forwarder.ts turns its options into this). */

export type EpicsProtocolName = 'ca' | 'pva';

/** Where the load comes from: the IOC's counting records, or the PVA stream server. */
export type LoadSourceKind = 'ioc' | 'stream';

export interface Step {
  readonly pvs: number;
  readonly hz: number;
  /** The IOC spreads each pass over its slot of the scan period (a smooth load) instead of running it at once. */
  readonly spread: boolean;
}

export interface BenchSettings {
  readonly source: LoadSourceKind;
  /** The compiled forwarder (`build`), or the sources through tsx. */
  readonly launch: 'build' | 'sources';
  readonly protocols: readonly EpicsProtocolName[];
  readonly steps: readonly Step[];
  /** The load window of a step, in seconds. */
  readonly windowS: number;
  /** NAME=VALUE librdkafka properties handed to the forwarder. */
  readonly kafkaConfig: readonly string[];
  /** Node or V8 options of the compiled forwarder. */
  readonly nodeOptions: readonly string[];
  /** A directory for a V8 CPU profile of the forwarder per step. */
  readonly cpuProfile: string | undefined;
  /** A directory for a heap snapshot of the forwarder once connected. */
  readonly heapSnapshot: string | undefined;
  /** Where the forwarder's RSS goes, once connected and at the end of the window. */
  readonly memoryDetail: boolean;
  /** A file for the forwarder's output of the last step. */
  readonly forwarderOutput: string | undefined;
  /** A file for the last step's latency over time (CSV). */
  readonly latencyTrace: string | undefined;
  /** More forwarder-launch arguments (the spool benchmark's --spool-dir). */
  readonly forwarderArgs?: readonly string[];
}

/** The time every PV has to be forwarded once, and a client ceiling's PVs to deliver a first value. */
export const CONNECT_DEADLINE_MS = 60_000;
/** The data topic (or the updates a client receives) is quiet this long after the load stops: all drained. */
export const QUIET_MS = 1500;
