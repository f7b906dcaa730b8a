/**
 * `--graylog-logger-address` end to end: a forwarder sends its log to a local GELF listener, over UDP (the
 * default) and over TCP (`tcp:host:port`). Its start-up lines arrive, and so do its last lines at shutdown (by
 * SIGTERM, or SIGINT).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { packageVersion } from '../../../src/util/package-version.js';
import { ForwarderWorld } from '../../support/forwarder-world.js';
import { type GelfMessage, GelfTcpListener, GelfUdpListener } from '../observability/gelf-listener.js';
import { onlyOptionVariables } from './launch.js';

const world = ForwarderWorld.setUp({ ioc: false });
let udp: GelfUdpListener;
let tcp: GelfTcpListener;
before(async () => {
  [udp, tcp] = await Promise.all([GelfUdpListener.start(), GelfTcpListener.start()]);
});
after(async () => {
  await Promise.all([udp.close(), tcp.close()]);
});

const INFO = 6;

function find(messages: readonly GelfMessage[], shortMessage: string): GelfMessage | undefined {
  return messages.find((message) => message['short_message'] === shortMessage);
}

describe('logging to Graylog', { concurrency: 2 }, () => {
  for (const protocol of ['udp', 'tcp'] as const) {
    it(`sends the forwarder's log over GELF ${protocol.toUpperCase()}`, async () => {
      const listener = protocol === 'udp' ? udp : tcp;
      const serviceId = `graylog-${protocol}`;
      const address = `${protocol === 'tcp' ? 'tcp:' : ''}127.0.0.1:${listener.port}`;
      const forwarder = await world.startForwarder(
        world.standardArguments([
          '--service-id',
          serviceId,
          '--verbosity',
          'Info',
          '--graylog-logger-address',
          address,
        ]),
        onlyOptionVariables(),
      );
      const started = `Forwarder ${packageVersion} started, service id ${serviceId}`;
      await listener.waitFor(started, 10_000);
      const listening = find(
        listener.messages,
        `Listening for commands on config topic ${world.topics.config}`,
      );
      assert.ok(listening, 'the line saying the forwarder listens');
      const record = find(listener.messages, started);
      assert.equal(record?.['_service_id'], serviceId);
      assert.equal(record?.['level'], INFO);
      assert.equal(record?.['_logger'], 'forwarder');
      assert.equal(record?.['_process_id'], forwarder.child.pid);

      // SIGINT (Ctrl-C in a terminal) stops the forwarder as SIGTERM does.
      const signal = protocol === 'udp' ? 'SIGTERM' : 'SIGINT';
      const { code } = await forwarder.stop(signal);
      assert.equal(code, 0);
      // Written out before the process exits: the last line of all.
      await listener.waitFor('Forwarder stopped', 5000);
      const ours = listener.messages.filter((message) => message['_service_id'] === serviceId);
      assert.ok(ours.some((message) => message['short_message'] === `Received ${signal}: stopping`));
    });
  }
});
