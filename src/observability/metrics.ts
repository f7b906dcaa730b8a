/**
 * A small metrics registry and the Prometheus text exposition format (version 0.0.4). Most of the forwarder's
 * figures already live in plain counter fields, so metrics are read from them when scraped (collected
 * families) rather than counted twice; only histograms are fed as events happen, and `observe` allocates
 * nothing.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export type Labels = Readonly<Record<string, string>>;

/** One series of a counter or gauge family. */
export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

export interface HistogramSnapshot {
  /** Upper bounds of the finite buckets, ascending; the +Inf bucket is implied. */
  readonly upperBounds: readonly number[];
  /** Cumulative counts per finite bucket (observations ≤ its bound). */
  readonly cumulativeCounts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** A family as it stands when scraped. Counter names end in `_total`. */
export type MetricSnapshot =
  | {
      readonly name: string;
      readonly help: string;
      readonly type: 'counter' | 'gauge';
      readonly samples: readonly Sample[];
    }
  | {
      readonly name: string;
      readonly help: string;
      readonly type: 'histogram';
      readonly histogram: HistogramSnapshot;
    };

/** Reads the current value, or the labelled series, of a collected family. */
export type Read = () => number | readonly Sample[];

/** Produces whole families when scraped, for sets of metrics known only at run time. */
export type Collector = () => Iterable<MetricSnapshot>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricsError extends Error {}

/**
 * Fixed-bucket histogram. `observe` is a short scan over the bounds and three stores: cheap enough to call once
 * per forwarded message.
 */
export class Histogram {
  private readonly bounds: Float64Array;
  /** Per-bucket (not cumulative) counts; the last slot is the +Inf bucket. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(upperBounds: readonly number[]) {
    if (upperBounds.length === 0) throw new MetricsError('a histogram needs at least one bucket');
    for (let index = 0; index < upperBounds.length; index++) {
      const bound = upperBounds[index] ?? NaN;
      if (!Number.isFinite(bound)) throw new MetricsError(`bucket bound ${bound} is not a finite number`);
      if (index > 0 && bound <= (upperBounds[index - 1] ?? -Infinity)) {
        throw new MetricsError('bucket bounds must be strictly ascending');
      }
    }
    this.bounds = Float64Array.from(upperBounds);
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  /** Counts `value`; NaN is ignored, as it would poison the sum. */
  observe(value: number): void {
    if (Number.isNaN(value)) return;
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index++;
    (this.counts[index] as number)++;
    this.sum += value;
    this.count++;
  }

  snapshot(): HistogramSnapshot {
    const cumulativeCounts: number[] = [];
    let running = 0;
    for (let index = 0; index < this.bounds.length; index++) {
      running += this.counts[index] ?? 0;
      cumulativeCounts.push(running);
    }
    return { upperBounds: [...this.bounds], cumulativeCounts, sum: this.sum, count: this.count };
  }
}

/** `count` bounds from `start`, each `factor` times the one before. */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => start * factor ** index);
}

export class MetricsRegistry {
  private readonly collectors: Collector[] = [];
  private readonly names = new Set<string>();

  /** A counter read from a monotonic field when scraped; the name must end in `_total`. */
  counter(name: string, help: string, read: Read): void {
    if (!name.endsWith('_total')) throw new MetricsError(`counter ${name} must end in _total`);
    this.addFamily(name, help, 'counter', read);
  }

  /** A gauge read when scraped. */
  gauge(name: string, help: string, read: Read): void {
    this.addFamily(name, help, 'gauge', read);
  }

  histogram(name: string, help: string, upperBounds: readonly number[]): Histogram {
    this.claim(name);
    const histogram = new Histogram(upperBounds);
    this.collectors.push(() => [{ name, help, type: 'histogram', histogram: histogram.snapshot() }]);
    return histogram;
  }

  /** Families whose names are known only when scraped; they are checked for clashes then. */
  collector(collect: Collector): void {
    this.collectors.push(collect);
  }

  /** Every family, in registration order. Throws MetricsError on an invalid or repeated name. */
  collect(): MetricSnapshot[] {
    const families: MetricSnapshot[] = [];
    const seen = new Set<string>();
    for (const collect of this.collectors) {
      for (const family of collect()) {
        checkName(family.name);
        if (seen.has(family.name)) throw new MetricsError(`metric ${family.name} is registered twice`);
        seen.add(family.name);
        families.push(family);
      }
    }
    return families;
  }

  /** The Prometheus text exposition of every family. */
  exposition(): string {
    return renderExposition(this.collect());
  }

  private addFamily(name: string, help: string, type: 'counter' | 'gauge', read: Read): void {
    this.claim(name);
    this.collectors.push(() => {
      const value = read();
      return [{ name, help, type, samples: typeof value === 'number' ? [{ value }] : value }];
    });
  }

  private claim(name: string): void {
    checkName(name);
    if (this.names.has(name)) throw new MetricsError(`metric ${name} is registered twice`);
    this.names.add(name);
  }
}

function checkName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new MetricsError(`"${name}" is not a valid metric name`);
}

/** The content type of the exposition, for HTTP responses. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function renderExposition(families: readonly MetricSnapshot[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      const { upperBounds, cumulativeCounts, sum, count } = family.histogram;
      upperBounds.forEach((bound, index) => {
        lines.push(
          `${family.name}_bucket{le="${formatValue(bound)}"} ${formatValue(cumulativeCounts[index] ?? 0)}`,
        );
      });
      lines.push(
        `${family.name}_bucket{le="+Inf"} ${formatValue(count)}`,
        `${family.name}_sum ${formatValue(sum)}`,
        `${family.name}_count ${formatValue(count)}`,
      );
    } else {
      for (const sample of family.samples) {
        lines.push(`${family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
      }
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function formatLabels(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new MetricsError(`"${name}" is not a valid label name`);
    }
    parts.push(`${name}="${escapeLabelValue(value)}"`);
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (character) => (character === '\n' ? '\\n' : `\\${character}`));
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (character) => (character === '\n' ? '\\n' : '\\\\'));
}
