import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwarderTopicProblem, isInternalTopic, topicNameProblem } from '../../../src/streams/topic-name.js';

describe('topic names', () => {
  it('accepts what Kafka accepts', () => {
    for (const topic of ['a', 'forwarder_data', 'Forwarder.data_v-2', '...', '_x', 't'.repeat(249)])
      assert.equal(topicNameProblem(topic), undefined, topic);
  });

  it('refuses what Kafka refuses, saying why', () => {
    assert.equal(topicNameProblem(''), 'is empty');
    assert.match(topicNameProblem('a b') ?? '', /may only contain letters, digits/);
    assert.match(topicNameProblem('a/b') ?? '', /may only contain/);
    assert.match(topicNameProblem('.') ?? '', /not a valid topic name/);
    assert.match(topicNameProblem('..') ?? '', /not a valid topic name/);
    assert.match(topicNameProblem('t'.repeat(250)) ?? '', /250 characters long, Kafka allows at most 249/);
  });

  it("keeps Kafka's internal topics from the forwarder, but they are legal names", () => {
    for (const topic of ['__consumer_offsets', '__transaction_state', '__cluster_metadata']) {
      assert.ok(isInternalTopic(topic));
      assert.equal(topicNameProblem(topic), undefined);
      assert.match(forwarderTopicProblem(topic) ?? '', /reserved for Kafka's internal topics/);
    }
    assert.equal(forwarderTopicProblem('_single_underscore'), undefined);
    assert.equal(forwarderTopicProblem('..'), topicNameProblem('..'));
  });
});
