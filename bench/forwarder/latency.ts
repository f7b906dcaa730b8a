/** Latency figures of a step: percentiles, and the trace of where in the load updates were late. */

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

const TRACE_BUCKET_MS = 5;

/** Latency per TRACE_BUCKET_MS of EPICS time from `firstEpicsMs`, as CSV lines: where in the load it was late. */
export function latencyTrace(
  latencies: readonly number[],
  epicsMs: readonly number[],
  firstEpicsMs: number,
): string {
  const buckets: number[][] = [];
  latencies.forEach((latency, i) => {
    const bucket = Math.floor(((epicsMs[i] as number) - firstEpicsMs) / TRACE_BUCKET_MS);
    (buckets[bucket] ??= []).push(latency);
  });
  const lines = ['ms,updates,p50_ms,p99_ms,max_ms'];
  buckets.forEach((bucket, i) => {
    const sorted = Float64Array.from(bucket).sort();
    lines.push(
      `${i * TRACE_BUCKET_MS},${sorted.length},${percentile(sorted, 0.5)},${percentile(sorted, 0.99)},${sorted.at(-1)}`,
    );
  });
  return lines.join('\n') + '\n';
}
