/** Metrics of the Node.js process: start time, CPU, memory and event-loop delay, under the usual names. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricsRegistry, Sample } from './metrics.js';

const EVENT_LOOP_WINDOW_MS = 10_000;

/** Event-loop delay over the last complete window (the current one until the first completes). */
class EventLoopLag {
  private readonly monitor = monitorEventLoopDelay({ resolution: 20 });
  private last: { p50: number; p99: number; max: number } | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs: number) {
    this.monitor.enable();
    this.timer = setInterval(() => {
      this.last = this.read();
      this.monitor.reset();
    }, windowMs);
    this.timer.unref();
  }

  samples(): Sample[] {
    const { p50, p99, max } = this.last ?? this.read();
    return [
      { labels: { quantile: '0.5' }, value: p50 },
      { labels: { quantile: '0.99' }, value: p99 },
      { labels: { quantile: '1' }, value: max },
    ];
  }

  close(): void {
    clearInterval(this.timer);
    this.monitor.disable();
  }

  private read(): { p50: number; p99: number; max: number } {
    // Values are ns; with no sample yet the monitor reports NaN or a huge minimum.
    const seconds = (ns: number): number => (Number.isFinite(ns) && this.monitor.count > 0 ? ns / 1e9 : 0);
    return {
      p50: seconds(this.monitor.percentile(50)),
      p99: seconds(this.monitor.percentile(99)),
      max: seconds(this.monitor.max),
    };
  }
}

/** Registers the process families; close() stops the event-loop monitor. */
export class ProcessMetrics {
  private readonly eventLoop = new EventLoopLag(EVENT_LOOP_WINDOW_MS);

  constructor(registry: MetricsRegistry, startedAtMs: number) {
    registry.gauge(
      'process_start_time_seconds',
      'Start time of the process (Unix seconds).',
      () => startedAtMs / 1000,
    );
    registry.counter('process_cpu_seconds_total', 'CPU time used by the process (user and system).', () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    });
    registry.gauge('process_resident_memory_bytes', 'Resident set size.', () => process.memoryUsage.rss());
    registry.gauge('nodejs_heap_bytes', 'V8 heap: used and total.', () => {
      const { heapUsed, heapTotal } = process.memoryUsage();
      return [
        { labels: { kind: 'used' }, value: heapUsed },
        { labels: { kind: 'total' }, value: heapTotal },
      ];
    });
    registry.gauge(
      'nodejs_external_memory_bytes',
      'Memory outside the V8 heap held by JavaScript objects (Buffers among them).',
      () => process.memoryUsage().external,
    );
    registry.gauge(
      'nodejs_eventloop_lag_seconds',
      `Event-loop delay over the last ${EVENT_LOOP_WINDOW_MS / 1000} s: median, 99th percentile and maximum.`,
      () => this.eventLoop.samples(),
    );
  }

  close(): void {
    this.eventLoop.close();
  }
}
