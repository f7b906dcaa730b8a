/**
 * Metrics of the disk spool (--spool-dir): what it holds, what waits for Kafka and since when, and what it dropped
 * or found damaged. Without a spool the families have no series.
 */
import type { SpoolFigures } from '../spool/spool.js';
import type { MetricsRegistry, Sample } from './metrics.js';

export function registerSpoolMetrics(
  registry: MetricsRegistry,
  figures: () => SpoolFigures | undefined,
  now: () => number,
): void {
  const read = (value: (spool: SpoolFigures) => number) => (): Sample[] => {
    const spool = figures();
    return spool === undefined ? [] : [{ value: value(spool) }];
  };
  registry.gauge(
    'forwarder_spool_bytes',
    'Bytes the spool holds on disk.',
    read((spool) => spool.bytes),
  );
  registry.gauge(
    'forwarder_spool_max_bytes',
    'Most bytes the spool may hold.',
    read((spool) => spool.maxBytes),
  );
  registry.gauge(
    'forwarder_spool_waiting_messages',
    'Messages in the spool that wait to be handed to Kafka.',
    read((spool) => spool.waiting),
  );
  registry.gauge(
    'forwarder_spool_oldest_waiting_seconds',
    'Age of the oldest waiting message (by its Kafka timestamp); 0 when none waits.',
    read((spool) =>
      spool.oldestWaitingMs === undefined ? 0 : Math.max(0, (now() - spool.oldestWaitingMs) / 1000),
    ),
  );
  registry.counter(
    'forwarder_spool_appended_total',
    'Messages written to the spool.',
    read((spool) => spool.appended),
  );
  registry.counter(
    'forwarder_spool_replayed_total',
    'Waiting messages handed to Kafka from the spool.',
    read((spool) => spool.replayed),
  );
  registry.gauge(
    'forwarder_spool_write_failing',
    '1 while writing to the spool directory fails (a full or failing disk), else 0.',
    read((spool) => (spool.writeError === undefined ? 0 : 1)),
  );
  registry.counter(
    'forwarder_spool_dropped_total',
    'Messages dropped because the spool was full or could not write (the newest are dropped).',
    read((spool) => spool.dropped),
  );
  registry.gauge(
    'forwarder_spool_torn_bytes',
    'Bytes of an unfinished write cut off the spool when it was opened (a crash or power cut).',
    read((spool) => spool.recovery.tornBytes),
  );
  registry.gauge(
    'forwarder_spool_corrupt_records',
    'Corrupted records skipped when the spool was opened.',
    read((spool) => spool.recovery.corruptRecords),
  );
}
