/**
 * Periodic re-sends for every stream flagged periodic, at one fixed cadence, from one timer (the reference runs
 * a timer thread per message kind per stream). Fresh updates do not shift the cadence, as in the reference.
 */
import type { StreamPipeline } from './pipeline.js';

export class PeriodicResender {
  private readonly pipelines = new Set<StreamPipeline>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(pipeline: StreamPipeline): void {
    this.pipelines.add(pipeline);
    this.timer ??= setInterval(() => this.tick(), this.periodMs);
  }

  delete(pipeline: StreamPipeline): void {
    this.pipelines.delete(pipeline);
    if (this.pipelines.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const nowMs = this.now();
    for (const pipeline of this.pipelines) pipeline.resend(nowMs);
  }
}
