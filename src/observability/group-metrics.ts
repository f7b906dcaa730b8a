/** Metrics of a forwarding group member: its part in the group and the rebalances it went through. */
import { FALLBACK_REASON_ROLES, type FallbackReason, type HandoverCounts } from '../group/handover.js';
import type { GroupCounters } from '../group/membership.js';
import type { MetricSnapshot, MetricsRegistry } from './metrics.js';

/** A forwarding group member as metrics see it. */
export interface GroupMetricsView {
  readonly groupId: string;
  /** Whether the member holds an assignment from the group now (false before joining and after a lost session). */
  readonly inGroup: boolean;
  readonly partitionCount: number;
  readonly partitionsOwned: number;
  /** Streams the whole group is asked to forward. */
  readonly desiredStreams: number;
  /** Streams this member forwards. */
  readonly ownedStreams: number;
  readonly counters: Readonly<GroupCounters>;
  readonly handovers: Readonly<HandoverCounts>;
  /** Partitions being handed over to or from this member now. */
  readonly handoversInProgress: number;
}

/** `group`: undefined unless this forwarder is a group member, and then it has no such series. */
export function registerGroupMetrics(
  registry: MetricsRegistry,
  group: () => GroupMetricsView | undefined,
): void {
  registry.collector(() => groupFamilies(group()));
}

function* groupFamilies(group: GroupMetricsView | undefined): Iterable<MetricSnapshot> {
  if (group === undefined) return;
  const labels = { group: group.groupId };
  const family = (name: string, help: string, type: 'gauge' | 'counter', value: number): MetricSnapshot => ({
    name,
    help,
    type,
    samples: [{ labels, value }],
  });
  yield family(
    'forwarder_group_member',
    '1 while this forwarder holds an assignment from its forwarding group, else 0.',
    'gauge',
    group.inGroup ? 1 : 0,
  );
  yield family(
    'forwarder_group_partitions',
    'Partitions of the coordination topic: the most members that can get streams.',
    'gauge',
    group.partitionCount,
  );
  yield family(
    'forwarder_group_partitions_owned',
    'Coordination-topic partitions assigned to this member.',
    'gauge',
    group.partitionsOwned,
  );
  yield family(
    'forwarder_group_streams_desired',
    'Streams the whole group is asked to forward.',
    'gauge',
    group.desiredStreams,
  );
  yield family(
    'forwarder_group_streams_owned',
    'Streams this member forwards: those whose PV hashes to its partitions.',
    'gauge',
    group.ownedStreams,
  );
  yield family(
    'forwarder_group_rebalances_total',
    'Rebalance events this member handled (assignments and revocations).',
    'counter',
    group.counters.rebalances,
  );
  yield {
    name: 'forwarder_group_partition_changes_total',
    help: 'Partitions assigned to, revoked from, or lost by this member (lost: the session timed out).',
    type: 'counter',
    samples: [
      { labels: { ...labels, change: 'assigned' }, value: group.counters.partitionsAssigned },
      { labels: { ...labels, change: 'revoked' }, value: group.counters.partitionsRevoked },
      { labels: { ...labels, change: 'lost' }, value: group.counters.partitionsLost },
    ],
  };
  yield family(
    'forwarder_group_handovers_in_progress',
    'Partitions being handed over to or from this member now.',
    'gauge',
    group.handoversInProgress,
  );
  const { completed, fallenBack } = group.handovers;
  yield {
    name: 'forwarder_group_handovers_total',
    help:
      'Hand-overs of partitions this member took part in, by role (giving: the old owner, taking: the new one) ' +
      'and outcome; fallen_back says why the agreement did not complete (reason).',
    type: 'counter',
    samples: [
      ...(['giving', 'taking'] as const).map((role) => ({
        labels: { ...labels, role, outcome: 'completed' },
        value: completed[role],
      })),
      ...(Object.entries(fallenBack) as [FallbackReason, number][]).map(([reason, value]) => ({
        labels: {
          ...labels,
          role: FALLBACK_REASON_ROLES[reason],
          outcome: 'fallen_back',
          reason,
        },
        value,
      })),
    ],
  };
}
