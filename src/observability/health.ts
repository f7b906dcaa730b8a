/**
 * Whether the forwarder is doing its job: healthy once start-up has finished, while the config consumer runs,
 * the output producer's brokers answer, and no stop was asked for. The broker check is a small metadata
 * request, made at most every few seconds however often the health is asked for.
 */

export type CheckState = 'up' | 'down' | 'starting';

export interface HealthReport {
  readonly healthy: boolean;
  readonly status: 'ok' | 'starting' | 'stopping' | 'unhealthy';
  readonly checks: {
    /** Up from the moment it listens for commands until it is closed. */
    readonly configConsumer: CheckState;
    /** Up while a broker of the output producer answers a metadata request in time. */
    readonly outputProducer: CheckState;
  };
}

export interface HealthInputs {
  readonly started: () => boolean;
  readonly stopping: () => boolean;
  readonly configConsumerUp: () => boolean;
  /** Undefined until the output producer is connected. */
  readonly probeOutputBrokers: (() => Promise<boolean>) | undefined;
}

/** How long a broker answer counts as current. */
export const BROKER_PROBE_MAX_AGE_MS = 5_000;

export class HealthCheck {
  private lastProbe: { atMs: number; reachable: boolean } | undefined;
  private probing: Promise<boolean> | undefined;
  private lastReport: HealthReport | undefined;

  constructor(
    private readonly inputs: () => HealthInputs,
    private readonly now: () => number = Date.now,
  ) {}

  /** The report of the last check, without checking again; undefined before the first. */
  get last(): HealthReport | undefined {
    return this.lastReport;
  }

  async check(): Promise<HealthReport> {
    const inputs = this.inputs();
    const outputReachable =
      inputs.probeOutputBrokers === undefined ? undefined : await this.probe(inputs.probeOutputBrokers);
    const started = inputs.started();
    const checks = {
      configConsumer: inputs.configConsumerUp() ? 'up' : started ? 'down' : 'starting',
      outputProducer:
        outputReachable === undefined ? (started ? 'down' : 'starting') : outputReachable ? 'up' : 'down',
    } as const;
    const allUp = checks.configConsumer === 'up' && checks.outputProducer === 'up';
    const status = inputs.stopping() ? 'stopping' : !started ? 'starting' : allUp ? 'ok' : 'unhealthy';
    this.lastReport = { healthy: status === 'ok', status, checks };
    return this.lastReport;
  }

  private async probe(probeBrokers: () => Promise<boolean>): Promise<boolean> {
    const now = this.now();
    if (this.lastProbe !== undefined && now - this.lastProbe.atMs < BROKER_PROBE_MAX_AGE_MS) {
      return this.lastProbe.reachable;
    }
    this.probing ??= probeBrokers()
      .catch(() => false)
      .then((reachable) => {
        this.lastProbe = { atMs: this.now(), reachable };
        this.probing = undefined;
        return reachable;
      });
    return this.probing;
  }
}
