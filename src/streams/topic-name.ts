/**
 * Kafka's rules for topic names, in one place for the daemon and forwarder-ctl: what a broker refuses outright
 * (org.apache.kafka.common.internals.Topic: letters, digits, ".", "_" and "-", at most 249 characters, neither "."
 * nor "..") and the names of Kafka's own internal topics, which the forwarder must neither write to nor use as
 * its config, status or storage topic.
 */

/** Kafka's own limit on the length of a topic name. */
export const MAX_TOPIC_LENGTH = 249;

const TOPIC_CHARACTERS = /^[A-Za-z0-9._-]+$/;

/**
 * Why Kafka would refuse `topic` as a topic name, or undefined when it is legal. Reasons are sentences without a
 * subject ("may only contain ..."), so callers can put the topic in front.
 */
export function topicNameProblem(topic: string): string | undefined {
  if (topic === '') return 'is empty';
  if (!TOPIC_CHARACTERS.test(topic)) return 'may only contain letters, digits, ".", "_" and "-"';
  if (topic === '.' || topic === '..') return 'is not a valid topic name ("." and ".." are refused by Kafka)';
  if (topic.length > MAX_TOPIC_LENGTH)
    return `is ${topic.length} characters long, Kafka allows at most ${MAX_TOPIC_LENGTH}`;
  return undefined;
}

/**
 * Kafka keeps its own state in topics whose names begin with "__" (__consumer_offsets, __transaction_state,
 * __share_group_state, the KRaft __cluster_metadata); clients may not write to them, and a forwarder's topics
 * named so are a mistake.
 */
export function isInternalTopic(topic: string): boolean {
  return topic.startsWith('__');
}

/** Why a forwarder cannot use `topic` (to write data, commands, status or its stored set), or undefined. */
export function forwarderTopicProblem(topic: string): string | undefined {
  return (
    topicNameProblem(topic) ??
    (isInternalTopic(topic)
      ? 'is reserved for Kafka\'s internal topics (names beginning with "__")'
      : undefined)
  );
}
