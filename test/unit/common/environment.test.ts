import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvironmentReader } from '../../../src/epics/common/environment.js';

describe('EPICS settings from the environment', () => {
  it('reads numbers, ports and yes/no, replacing malformed values by their default with a warning', () => {
    const read = new EnvironmentReader({
      TMO: '2.5',
      BAD_TMO: '-1',
      PORT: '6064',
      BAD_PORT: 'abc',
      HUGE_PORT: '70000',
      AUTO: 'no',
      AUTO_FALSE: 'FALSE',
      AUTO_YES: 'YES',
    });
    assert.equal(read.positiveNumber('TMO', 30), 2.5);
    assert.equal(read.positiveNumber('UNSET', 30), 30);
    assert.equal(read.positiveNumber('BAD_TMO', 30), 30);
    assert.equal(read.port('PORT', 5064), 6064);
    assert.equal(read.port('BAD_PORT', 5064), 5064);
    assert.equal(read.port('HUGE_PORT', 5064), 5064);
    assert.equal(read.yesNo('AUTO', true), false);
    assert.equal(read.yesNo('AUTO_FALSE', true), false);
    assert.equal(read.yesNo('AUTO_YES', false), true);
    assert.equal(read.yesNo('UNSET', true), true);
    assert.equal(read.warnings.length, 3);
  });

  it('reads address lists with the separator each protocol uses', () => {
    const read = new EnvironmentReader({ LIST: ' 127.0.0.1, h:7000\tbad:x ' });
    assert.deepEqual(read.endpoints('LIST', 5064, /[\s,]+/), [
      { host: '127.0.0.1', port: 5064 },
      { host: 'h', port: 7000 },
    ]);
    assert.deepEqual(read.warnings, ['LIST: entry "bad:x" is malformed; ignored']);
  });
});
