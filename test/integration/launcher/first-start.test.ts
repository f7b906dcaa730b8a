/**
 * A first deployment where the forwarder starts before its topics exist: it waits, saying which topic it waits
 * for, and starts once they are created, with no stored streams.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForwarderProcess } from '../../support/forwarder.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { createTopics, produceMessages, uniqueTopic } from '../../support/kafka.js';
import { addFakeStreams, onlyOptionVariables, waitForF144 } from './launch.js';

const world = ForwarderWorld.setUp({ ioc: false });

describe('first start before the topics exist', () => {
  it('waits for its topics, saying so, then starts with no streams', async () => {
    const storage = uniqueTopic('late-storage');
    const config = uniqueTopic('late-commands');
    const forwarder = ForwarderProcess.start(
      [
        '--config-topic',
        world.uri(config),
        '--status-topic',
        world.uri(world.topics.status),
        '--output-broker',
        world.uri(),
        '--storage-topic',
        world.uri(storage),
        '--fake-pv-period',
        '100',
      ],
      onlyOptionVariables(),
    );
    world.forwarders.push(forwarder);
    await forwarder.waitForOutput(new RegExp(`ERROR Storage topic ${storage} has no partitions`));
    await createTopics(world.kafkaConfig, [storage, config]);
    await forwarder.waitForOutput(new RegExp(`WARN No stored stream set on storage topic ${storage}`));
    await forwarder.waitForOutput(/Listening for commands/);

    // It works: a command on the late config topic is carried out.
    await produceMessages(world.kafkaConfig, config, [
      { value: Buffer.from(addFakeStreams(world, ['FAKE:FIRST:START'])) },
    ]);
    await waitForF144(world, 'FAKE:FIRST:START', 2);
    const { code } = await forwarder.stop('SIGTERM');
    assert.equal(code, 0);
  });
});
