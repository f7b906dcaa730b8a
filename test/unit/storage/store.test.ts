import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigMessage } from '../../../src/streams/commands.js';
import type { StreamSpec } from '../../../src/model/stream.js';
import { storedStreamsMessage } from '../../../src/storage/store.js';

describe('stored stream set', () => {
  it('round-trips every stream with its protocol and periodic flag', () => {
    const streams: StreamSpec[] = [
      { pvName: 'A', protocol: 'ca', topic: 't1', schema: 'f144', periodic: true },
      { pvName: 'B', protocol: 'pva', topic: 't2', schema: 'nttable_se00', periodic: false },
      { pvName: 'C', protocol: 'fake', topic: 't3', schema: 'tdct', periodic: false },
    ];
    const parsed = parseConfigMessage(storedStreamsMessage(streams));
    assert.deepEqual(parsed, { ok: true, skipped: [], command: { type: 'add', streams } });
  });

  it('stores an empty set as REMOVEALL', () => {
    assert.deepEqual(parseConfigMessage(storedStreamsMessage([])), {
      ok: true,
      skipped: [],
      command: { type: 'removeAll' },
    });
  });
});
