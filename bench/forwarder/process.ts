/** What a process costs, sampled from /proc: CPU time, resident memory and where that memory is. */
import { readFileSync } from 'node:fs';
import { fixed } from '../format.js';

const CLK_TCK = 100;

/** user+system CPU seconds of a process, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS and VmHWM (peak) of a process, MB. */
export function processMemoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Resident kB of /proc/<pid>/smaps by kind of mapping: program and library files, thread stacks, the rest. */
function residentByMapping(pid: number): { files: number; stacks: number; anonymous: number } {
  const totals = { files: 0, stacks: 0, anonymous: 0 };
  let kind: keyof typeof totals = 'anonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header !== null) {
      const path = header[1] ?? '';
      kind = path.startsWith('/') ? 'files' : path.startsWith('[stack') ? 'stacks' : 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) totals[kind] += Number(rss[1]);
  }
  return totals;
}

/**
 * RSS split: the V8 heap (used and committed, from the forwarder's /metrics), memory held outside it by
 * JavaScript objects (external: Buffers and typed arrays), mapped files (node, the librdkafka binding and other
 * libraries), and the remaining anonymous memory (malloc: librdkafka's buffers and threads, Node's own).
 */
export async function memoryDetail(pid: number, httpPort: number): Promise<string> {
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const metric = (pattern: string): number =>
    Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  const heapUsed = metric('nodejs_heap_bytes\\{kind="used"\\}');
  const heapTotal = metric('nodejs_heap_bytes\\{kind="total"\\}');
  const external = metric('nodejs_external_memory_bytes');
  const { rss } = processMemoryMb(pid);
  const mapped = residentByMapping(pid);
  const files = mapped.files / 1024;
  return (
    `RSS ${fixed(rss, 0)} MB: V8 heap ${fixed(heapUsed, 0)} used / ${fixed(heapTotal, 0)} committed, ` +
    `external ${fixed(external, 0)}, files ${fixed(files, 0)}, stacks ${fixed(mapped.stacks / 1024, 1)}, ` +
    `other anonymous ${fixed(rss - heapTotal - files - mapped.stacks / 1024, 0)} (malloc: librdkafka, Node, external)`
  );
}
