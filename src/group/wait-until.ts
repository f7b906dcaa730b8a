/** Polling for a condition that no event announces. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves true once `condition` holds, checked every `intervalMs`; false when it still does not after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  intervalMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
  return true;
}
