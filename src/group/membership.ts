/**
 * Membership of a forwarding group: a Kafka consumer that joins consumer group NAME on the coordination topic and
 * never reads a message. Kafka's group protocol (cooperative-sticky assignor) decides which member owns which
 * partitions; the partitions a member owns say which streams it forwards (see partition.ts).
 *
 * Partitions move make-before-break (handover-driver.ts, docs/scaling.md): a revoked partition's streams keep
 * running until its new owner has subscribed them, and the two agree on where one stops and the other starts. A
 * *lost* assignment (this member could not reach the group coordinator for the session timeout: Kafka down, or a
 * network cut) is different: nobody may have taken over, and the producer is still buffering, so the streams keep
 * running until the member is back in the group and learns its new assignment. That risks a short overlap, never a
 * loss.
 */
import rdkafka, { type RdKafka } from '@confluentinc/kafka-javascript';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import {
  blockingRequest,
  type ConnectRetry,
  connectWithRetry,
  logClientErrors,
  pauseBeforeRetry,
  CANCELLED,
} from '../kafka/connect.js';
import { logPollErrors, PollLoop } from '../kafka/poll-loop.js';
import { HandoverChannel } from './handover-channel.js';
import {
  HANDOVER_TIMEOUTS,
  HandoverDriver,
  type HandoverStreams,
  RELEASE_FLUSH_MS,
} from './handover-driver.js';
import { type HandoverCounts, type HandoverInProgress, NO_HANDOVERS } from './handover.js';
import type { HandoverSink } from './handover-sink.js';
import { pvPartition } from './partition.js';
import { waitUntil } from './wait-until.js';

const { KafkaConsumer, AdminClient } = rdkafka;

export interface GroupSettings {
  /** The Kafka consumer group all members join. */
  readonly groupId: string;
  /** The coordination topic; created with `partitions` partitions when missing. */
  readonly topic: string;
  readonly partitions: number;
  /** Kafka's session timeout: how long a silent member keeps its partitions. */
  readonly sessionTimeoutMs: number;
}

/** What the member's owner does when partitions come and go. */
export interface OwnershipListener {
  /** The member's partitions changed: `owns` says whether it now runs a PV's streams. */
  ownershipChanged(owns: (pvName: string) => boolean): void;
  /** Resolves true once every message produced so far is acknowledged, false after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean>;
  /** The PV names of every stream the group is asked to forward. */
  pvNames(): string[];
  /** A hand-over began, moved on or ended. */
  handoversChanged(): void;
}

/** How long a leaving member waits for its revocation, and for Kafka to confirm it left. */
const LEAVE_TIMEOUT_MS = 3_000;
/** How long the final flush of a leaving member waits. */
const CLOSE_FLUSH_MS = 5_000;

export interface GroupCounters {
  /** Partitions assigned to this member, summed over rebalances. */
  partitionsAssigned: number;
  partitionsRevoked: number;
  /** Partitions whose assignment was lost (session timed out). */
  partitionsLost: number;
  /** Rebalances this member took part in (each assignment or revocation event). */
  rebalances: number;
}

/** Cooperative rebalancing methods the binding has but its type declarations lack. */
interface CooperativeConsumer extends RdKafka.KafkaConsumer {
  incrementalAssign(assignments: RdKafka.Assignment[]): void;
  incrementalUnassign(assignments: RdKafka.Assignment[]): void;
  assignmentLost(): boolean;
}

const ERR_ASSIGN_PARTITIONS = rdkafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS;
const ERR_REVOKE_PARTITIONS = rdkafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS;
const ERR_TOPIC_ALREADY_EXISTS = rdkafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS;
const METADATA_TIMEOUT_MS = 10_000;
/** Broker default replication (KIP-464): the coordination topic holds no data, so the cluster's default is fine. */
const BROKER_DEFAULT_REPLICATION = -1;
/** Rebalance callbacks run inside polls; a cooperative rebalance takes two, so polls come often. */
const MEMBERSHIP_POLL_INTERVAL_MS = 20;
const MAX_HEARTBEAT_INTERVAL_MS = 500;

/** A heartbeat every 500 ms at most, and at least three per session timeout, as Kafka asks. */
export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.max(100, Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.floor(sessionTimeoutMs / 3)));
}

export class GroupMembership {
  readonly counters: GroupCounters = {
    partitionsAssigned: 0,
    partitionsRevoked: 0,
    partitionsLost: 0,
    rebalances: 0,
  };
  /** Partitions assigned by the group. */
  private readonly assigned = new Set<number>();
  /** Partitions lost with the session, still forwarded until the next assignment says where they went. */
  private readonly lingering = new Set<number>();
  /** Rebalance events are handled one at a time, in order. */
  private rebalanceChain: Promise<void> = Promise.resolve();
  private closed = false;
  private loop: PollLoop | undefined;
  private holdsAssignment = false;
  private handovers: HandoverDriver | undefined;
  private channel: HandoverChannel | undefined;

  private readonly consumer: CooperativeConsumer;
  private partitions = 0;

  private constructor(
    config: Readonly<Record<string, string>>,
    readonly settings: GroupSettings,
    private readonly logger: Logger,
    private readonly listener: OwnershipListener,
  ) {
    this.consumer = new KafkaConsumer(
      {
        ...config,
        'group.id': settings.groupId,
        'partition.assignment.strategy': 'cooperative-sticky',
        'session.timeout.ms': settings.sessionTimeoutMs,
        // The survivors of a dead member learn of the rebalance with their next heartbeat: a short interval keeps
        // that wait from adding much to the session timeout (librdkafka's default, 3 s, would add up to 3 s).
        'heartbeat.interval.ms': heartbeatIntervalMs(settings.sessionTimeoutMs),
        'enable.auto.commit': false,
        // Bound on our own handling of a revocation (stop, flush), which librdkafka waits for.
        'max.poll.interval.ms': 300_000,
        rebalance_cb: (error: RdKafka.LibrdKafkaError, assignment: RdKafka.Assignment[]) =>
          this.rebalance(error, assignment),
      },
      {},
    ) as CooperativeConsumer;
  }

  /**
   * Connects (retrying), creates the coordination topic when missing, reads its partition count and joins the
   * group. Ownership arrives later, through the listener.
   */
  static async join(
    config: Readonly<Record<string, string>>,
    settings: GroupSettings,
    logger: Logger,
    listener: OwnershipListener,
    /** `name`: this member's name in hand-over messages, unique per process. */
    member: { readonly name: string; readonly sink: HandoverSink },
    retry: ConnectRetry,
  ): Promise<GroupMembership> {
    const membership = new GroupMembership(config, settings, logger, listener);
    const { consumer } = membership;
    const role = 'group member';
    logClientErrors(consumer, role, logger);
    await connectWithRetry(consumer, role, logger, retry);
    const partitionCount = await coordinationPartitions(consumer, settings, logger, retry);
    if (partitionCount !== settings.partitions) {
      logger.warn(
        `Coordination topic ${settings.topic} has ${partitionCount} partitions, not ${settings.partitions}: ` +
          `using ${partitionCount}, as every member of group ${settings.groupId} does`,
      );
    }
    membership.partitions = partitionCount;
    member.sink.partitionCount = partitionCount;
    // Reading the coordination topic starts before joining, so no announcement made after the join is missed.
    membership.channel = await HandoverChannel.open(config, settings.topic, logger, retry, (message) =>
      membership.handovers?.received(message),
    );
    membership.handovers = new HandoverDriver(
      member.name,
      settings.groupId,
      membership.channel,
      member.sink,
      membership.handoverStreams(),
      logger,
    );
    consumer.subscribe([settings.topic]);
    // Nothing is ever produced to the coordination topic: polling only keeps the member alive and serves rebalances.
    membership.loop = new PollLoop(consumer, () => undefined, logPollErrors(role, logger), {
      intervalMs: MEMBERSHIP_POLL_INTERVAL_MS,
    });
    membership.loop.start();
    logger.info(
      `Joining forwarding group ${settings.groupId} on ${settings.topic} (${partitionCount} partitions)`,
    );
    return membership;
  }

  /** The coordination topic's actual partition count: what every member hashes with. */
  get partitionCount(): number {
    return this.partitions;
  }

  /**
   * Whether this member runs the streams of `pvName`: its partition is forwarded, held while taken over, still
   * forwarded while handed over, or lost and not settled.
   */
  owns(pvName: string): boolean {
    const partition = pvPartition(pvName, this.partitionCount);
    return this.handovers?.runs(partition) === true || this.lingering.has(partition);
  }

  /** Hand-overs under way. */
  handoversInProgress(): HandoverInProgress[] {
    return this.handovers?.inProgress() ?? [];
  }

  /** Hand-overs ended, by outcome. */
  get handoverCounts(): Readonly<HandoverCounts> {
    return this.handovers?.agreement.counts ?? NO_HANDOVERS;
  }

  /** Whether the member holds an assignment from the group: false before the first and after a lost session. */
  get inGroup(): boolean {
    return this.holdsAssignment;
  }

  /** The assigned partitions, sorted. */
  assignedPartitions(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  /**
   * Leaves the group make-before-break: gives up the partitions at once but keeps forwarding them until their new
   * owners are ready, then stops every stream and flushes. Takes at most 21 s: LEAVE_TIMEOUT_MS, the
   * agreement's READY deadline, the flush before RELEASED, and CLOSE_FLUSH_MS.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.holdsAssignment = false;
    this.lingering.clear();
    this.notifyOwnership();
    if (this.assigned.size > 0) {
      this.consumer.unsubscribe();
      await waitUntil(() => this.assigned.size === 0, LEAVE_TIMEOUT_MS, MEMBERSHIP_POLL_INTERVAL_MS);
      await this.rebalanceChain;
    }
    await this.handovers?.settled(HANDOVER_TIMEOUTS.readyMs + RELEASE_FLUSH_MS);
    await this.handovers?.close();
    if (!(await this.listener.flush(CLOSE_FLUSH_MS))) {
      this.logger.warn(
        `Forwarding group ${this.settings.groupId}: the last messages were not all acknowledged within ` +
          `${CLOSE_FLUSH_MS / 1000} s of leaving`,
      );
    }
    await this.loop?.stop();
    await new Promise<void>((resolveDisconnect) => this.consumer.disconnect(() => resolveDisconnect()));
    await this.rebalanceChain;
    await this.channel?.close();
  }

  private notifyOwnership(): void {
    this.listener.ownershipChanged((pvName) => this.owns(pvName));
  }

  private handoverStreams(): HandoverStreams {
    return {
      changed: () => this.notifyOwnership(),
      flush: (timeoutMs) => this.listener.flush(timeoutMs),
      progressed: () => this.listener.handoversChanged(),
      pvNames: (partition) =>
        this.listener.pvNames().filter((pv) => pvPartition(pv, this.partitionCount) === partition),
    };
  }

  private rebalance(error: RdKafka.LibrdKafkaError, assignment: RdKafka.Assignment[]): void {
    const partitions = assignment
      .filter((entry) => entry.topic === this.settings.topic)
      .map((entry) => entry.partition);
    this.rebalanceChain = this.rebalanceChain
      .then(async () => {
        this.counters.rebalances++;
        if (error.code === ERR_ASSIGN_PARTITIONS) this.assign(assignment, partitions);
        else if (error.code === ERR_REVOKE_PARTITIONS) await this.revoke(assignment, partitions);
        else
          this.logger.error(`Forwarding group ${this.settings.groupId}: rebalance failed: ${error.message}`);
      })
      .catch((failure: unknown) => {
        this.logger.error(
          `Forwarding group ${this.settings.groupId}: handling a rebalance failed: ${(failure as Error).message}`,
        );
      });
  }

  private assign(assignment: RdKafka.Assignment[], partitions: readonly number[]): void {
    for (const partition of partitions) this.assigned.add(partition);
    this.holdsAssignment = true;
    this.counters.partitionsAssigned += partitions.length;
    const settled = this.lingering.size;
    const resumed = partitions.filter((partition) => this.lingering.has(partition));
    this.handovers?.resumed(resumed);
    this.lingering.clear();
    this.logger.info(
      `Forwarding group ${this.settings.groupId}: assigned partitions ${list(partitions)}; ` +
        `now owning ${list(this.assignedPartitions())}` +
        (settled > 0 ? ` (${settled} lost partitions settled)` : ''),
    );
    this.notifyOwnership();
    this.handovers?.assigned(partitions.filter((partition) => !resumed.includes(partition)));
    this.acknowledge(() => this.consumer.incrementalAssign(assignment));
  }

  private async revoke(assignment: RdKafka.Assignment[], partitions: readonly number[]): Promise<void> {
    const lost = this.consumer.assignmentLost();
    for (const partition of partitions) this.assigned.delete(partition);
    if (lost) {
      this.holdsAssignment = false;
      for (const partition of partitions) this.lingering.add(partition);
      await this.handovers?.lost(partitions);
      this.counters.partitionsLost += partitions.length;
      this.logger.warn(
        `Forwarding group ${this.settings.groupId}: lost partitions ${list(partitions)} (no contact with the ` +
          `group for the session timeout); still forwarding their streams until the group assigns them again`,
      );
    } else {
      this.counters.partitionsRevoked += partitions.length;
      this.logger.info(
        `Forwarding group ${this.settings.groupId}: partitions ${list(partitions)} revoked; ` +
          `forwarding them until their new owners are ready`,
      );
      await this.handovers?.revoked(partitions);
    }
    this.acknowledge(() => this.consumer.incrementalUnassign(assignment));
  }

  /** Tells librdkafka the rebalance step is done; after close() the consumer is gone and there is nothing to tell. */
  private acknowledge(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (!this.closed) {
        this.logger.error(
          `Forwarding group ${this.settings.groupId}: could not acknowledge a rebalance: ${(error as Error).message}`,
        );
      }
    }
  }
}

function list(partitions: readonly number[]): string {
  return partitions.length === 0 ? 'none' : `[${[...partitions].sort((a, b) => a - b).join(', ')}]`;
}

/** The coordination topic's partition count, creating the topic first when it does not exist. */
async function coordinationPartitions(
  consumer: RdKafka.KafkaConsumer,
  settings: GroupSettings,
  logger: Logger,
  retry: ConnectRetry,
): Promise<number> {
  const cancelled = (): Error => new Error(`Waiting for coordination topic ${settings.topic}: cancelled`);
  let created = false;
  const startedAt = Date.now();
  for (;;) {
    try {
      const count = await partitionCount(consumer, settings.topic);
      if (count > 0) return count;
      if (!created) {
        await createTopic(consumer, settings);
        created = true;
        logger.info(`Created coordination topic ${settings.topic} with ${settings.partitions} partitions`);
      }
      // A new topic reaches the metadata of every broker a moment after it was created.
      if (created && Date.now() - startedAt < METADATA_TIMEOUT_MS) {
        await sleep(250);
        continue;
      }
    } catch (error) {
      logger.error(
        `Could not read or create coordination topic ${settings.topic}: ${(error as Error).message}; retrying`,
      );
    }
    if ((await pauseBeforeRetry(retry)) === CANCELLED) throw cancelled();
  }
}

async function partitionCount(consumer: RdKafka.KafkaConsumer, topic: string): Promise<number> {
  const metadata = await blockingRequest(
    new Promise<RdKafka.Metadata>((resolveMetadata, rejectMetadata) =>
      consumer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, (error, data) =>
        error ? rejectMetadata(error) : resolveMetadata(data),
      ),
    ),
  );
  return metadata.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0;
}

/** Creates the topic; another member creating it at the same moment is fine. */
async function createTopic(consumer: RdKafka.KafkaConsumer, settings: GroupSettings): Promise<void> {
  const admin = AdminClient.createFrom(consumer);
  await new Promise<void>((resolveCreate, rejectCreate) =>
    admin.createTopic(
      {
        topic: settings.topic,
        num_partitions: settings.partitions,
        replication_factor: BROKER_DEFAULT_REPLICATION,
      },
      METADATA_TIMEOUT_MS,
      (error) => (error && error.code !== ERR_TOPIC_ALREADY_EXISTS ? rejectCreate(error) : resolveCreate()),
    ),
  );
}
