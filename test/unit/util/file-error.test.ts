import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileErrorReason } from '../../../src/util/file-error.js';

describe('file errors', () => {
  it('describes file errors briefly', () => {
    assert.equal(fileErrorReason(Object.assign(new Error('x'), { code: 'EACCES' })), 'permission denied');
    assert.equal(fileErrorReason(Object.assign(new Error('x'), { code: 'EMFILE' })), 'EMFILE');
    assert.equal(fileErrorReason(new Error('odd')), 'odd');
  });
});
