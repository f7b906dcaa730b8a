/** Numeric option values, checked with messages that name the option. */
import { UsageError } from './errors.js';

/** A positive number of seconds (fractions allowed), at most `max`. */
export function positiveSeconds(option: string, text: string, max = 86_400): number {
  const value = Number(text);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || value <= 0 || value > max) {
    throw new UsageError(`${option}: "${text}" is not a number of seconds above 0 and at most ${max}`);
  }
  return value;
}

export function positiveInteger(option: string, text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${option}: "${text}" is not a positive integer`);
  }
  return Number(text);
}
