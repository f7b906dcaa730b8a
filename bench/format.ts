/** How the benchmarks write: progress on stderr (stdout stays the report), figures for reading. */
import { loadavg } from 'node:os';

/** A progress line on stderr, stamped with the time of day (UTC). */
export const progress = (message: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

/** `value` with `digits` decimals, '-' when it is not a finite number. */
export const fixed = (value: number, digits = 1): string =>
  Number.isFinite(value) ? value.toFixed(digits) : '-';

/** `value` rounded, with thousands separators, '-' when it is not a finite number. */
export const thousands = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';

/** The machine's load average over 1, 5 and 15 minutes. */
export const loadAverage = (): string =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
