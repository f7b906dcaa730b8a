/**
 * Where the machine's CPU goes during a step, from /proc: the forwarder split by thread (its main thread, where all
 * JavaScript runs; librdkafka's threads, named `rdk:*`; the rest: V8's garbage collector and compiler, libuv), the
 * Kafka broker's JVM, the load source, the benchmark process itself, and the machine's total.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100;

/** Cumulative CPU seconds, as read at one moment. */
export interface CpuReading {
  readonly forwarderMain: number;
  /** Time the forwarder's main thread was ready to run but waited for a core (/proc schedstat). */
  readonly forwarderMainWaiting: number;
  readonly forwarderKafka: number;
  readonly forwarderOther: number;
  readonly broker: number;
  readonly source: number;
  readonly bench: number;
  /** Every core's busy time (all processes, the kernel included). */
  readonly machineBusy: number;
  /** Idle time while some task waited for the disk. */
  readonly machineIowait: number;
  /** Time the hypervisor gave this machine's cores to others. */
  readonly machineSteal: number;
  /** Every core's time, busy or idle: the cores × the seconds. */
  readonly machineTotal: number;
}

/** user+system seconds and the command name of a /proc stat file; zero once it is gone. */
function statOf(path: string): { seconds: number; comm: string } {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      seconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK,
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    };
  } catch {
    return { seconds: 0, comm: '' };
  }
}

/**
 * The forwarder's CPU by thread. A thread that ended takes its time with it (its share then moves to the process
 * total only), which librdkafka's threads rarely do during a step.
 */
function threadSplit(pid: number): { main: number; kafka: number; other: number } {
  const split = { main: 0, kafka: 0, other: 0 };
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return split;
  }
  for (const tid of tids) {
    const { seconds, comm } = statOf(`/proc/${pid}/task/${tid}/stat`);
    if (Number(tid) === pid) split.main += seconds;
    else if (comm.startsWith('rdk:')) split.kafka += seconds;
    else split.other += seconds;
  }
  return split;
}

/** Seconds a thread waited for a core, from its schedstat (ns on a run queue); zero when unknown. */
function waitingSeconds(pid: number, tid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return 0;
  }
}

/** The seconds of all cores, from the first line of /proc/stat (user nice system idle iowait irq softirq steal). */
function machineSeconds(): { busy: number; iowait: number; steal: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  return {
    busy: (user + nice + system + irq + softirq) / CLK_TCK,
    iowait: iowait / CLK_TCK,
    steal: steal / CLK_TCK,
    total: (user + nice + system + idle + iowait + irq + softirq + steal) / CLK_TCK,
  };
}

/** The Kafka broker's JVM: a child process of this one running kafka.Kafka (undefined when none runs). */
function brokerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('kafka.Kafka'))
        return Number(entry);
    } catch {
      // The process ended while it was looked at.
    }
  }
  return undefined;
}

/**
 * Reads the CPU of the forwarder (`forwarder`), the load source (`source`), the broker and the machine. The broker
 * is stopped and started during a step: its JVM is found again at every reading, and the time of the JVMs that
 * ended is kept, so its figure counts on across restarts.
 */
export class CpuMeter {
  private broker: { pid: number; seconds: number } | undefined;
  private brokerEnded = 0;

  constructor(
    private readonly forwarder: number,
    private readonly source: number,
  ) {}

  read(): CpuReading {
    const threads = threadSplit(this.forwarder);
    const machine = machineSeconds();
    return {
      forwarderMain: threads.main,
      forwarderMainWaiting: waitingSeconds(this.forwarder, this.forwarder),
      forwarderKafka: threads.kafka,
      forwarderOther: threads.other,
      broker: this.brokerSeconds(),
      source: statOf(`/proc/${this.source}/stat`).seconds,
      bench: statOf(`/proc/${process.pid}/stat`).seconds,
      machineBusy: machine.busy,
      machineIowait: machine.iowait,
      machineSteal: machine.steal,
      machineTotal: machine.total,
    };
  }

  private brokerSeconds(): number {
    if (this.broker !== undefined) {
      const { seconds, comm } = statOf(`/proc/${this.broker.pid}/stat`);
      if (comm === 'java') {
        this.broker.seconds = seconds;
        return this.brokerEnded + seconds;
      }
      // That JVM ended: what it used stays counted, and a new one is looked for.
      this.brokerEnded += this.broker.seconds;
      this.broker = undefined;
    }
    const pid = brokerPid();
    if (pid !== undefined) this.broker = { pid, seconds: statOf(`/proc/${pid}/stat`).seconds };
    return this.brokerEnded + (this.broker?.seconds ?? 0);
  }
}

/** Cores used over the span between two readings, per field (machineTotal: the cores there are). */
export function coresBetween(
  from: CpuReading,
  to: CpuReading,
  seconds: number,
): Record<keyof CpuReading, number> {
  const cores = {} as Record<keyof CpuReading, number>;
  for (const field of Object.keys(from) as (keyof CpuReading)[])
    cores[field] = (to[field] - from[field]) / seconds;
  return cores;
}
