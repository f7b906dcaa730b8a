import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandEffect } from '../../../src/ctl/command-effect.js';
import type { ForwarderInstance } from '../../../src/ctl/status-view.js';
import { type Fc00Stream, Protocol } from '../../../src/schemas/index.js';

const SENT = 1_000;

const stream = (channel: string, topic = 'data'): Fc00Stream => ({
  channel,
  protocol: Protocol.CA,
  topic,
  schema: 'f144',
  periodic: 0,
});

function instance(serviceId: string, lastSeenMs: number, pvs: readonly string[]): ForwarderInstance {
  return {
    serviceId,
    hostName: 'host',
    processId: 1,
    softwareName: 'Forwarder',
    softwareVersion: '1',
    updateIntervalMs: 2_000,
    lastSeenMs,
    state: 'running',
    streams: pvs.map((pv) => ({ channel_name: pv, protocol: 'CA', output_topic: 'data', schema: 'f144' })),
  };
}

describe('whether the status shows a command', () => {
  it('waits for a status sent after the command', () => {
    const effect = commandEffect('add', [stream('A')], [instance('f', SENT - 1, ['A'])], SENT);
    assert.deepEqual(effect, { done: false, pending: 'no forwarder sent its status since the command' });
  });

  it('ADD: every stream listed, by any member of a group; names what is missing', () => {
    const members = [instance('m1', SENT, ['A']), instance('m2', SENT + 5, ['B'])];
    assert.equal(commandEffect('add', [stream('A'), stream('B')], members, SENT).done, true);
    const missing = Array.from({ length: 8 }, (_, index) => stream(`M${index}`));
    assert.deepEqual(commandEffect('add', [stream('A'), ...missing], members, SENT), {
      done: false,
      pending: '8 of 9 not listed: M0 (data), M1 (data), M2 (data), M3 (data), M4 (data) and 3 more',
    });
    // The same PV to another topic is another stream.
    assert.equal(commandEffect('add', [stream('A', 'other')], members, SENT).done, false);
  });

  it('REMOVE: no stream matching a pattern is listed any more', () => {
    const forwarder = [instance('f', SENT, ['SIM:A', 'OTHER'])];
    assert.equal(commandEffect('remove', [stream('NOPE:*')], forwarder, SENT).done, true);
    assert.deepEqual(commandEffect('remove', [stream('SIM:*')], forwarder, SENT), {
      done: false,
      pending: '1 matching still forwarded: SIM:A (data)',
    });
    // Empty fields of a pattern match anything.
    assert.equal(
      commandEffect('remove', [{ ...stream(''), schema: '' }], [instance('f', SENT, [])], SENT).done,
      true,
    );
  });

  it('REPLACE: exactly the given streams', () => {
    const forwarder = [instance('f', SENT, ['A', 'OLD'])];
    assert.deepEqual(commandEffect('replace', [stream('A')], forwarder, SENT), {
      done: false,
      pending: '1 other still forwarded: OLD (data)',
    });
    assert.equal(commandEffect('replace', [stream('A')], [instance('f', SENT, ['A'])], SENT).done, true);
  });

  it('leaves out forwarders that stopped', () => {
    const stopped = { ...instance('f', SENT, []), state: 'stopped' as const };
    assert.equal(commandEffect('remove', [stream('A')], [stopped], SENT).done, false);
  });
});
