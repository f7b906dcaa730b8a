import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressError, formatHostPort, parseHostPort } from '../../../src/util/host-port.js';

describe('host:port addresses', () => {
  it('parses names, IPv4 and bracketed IPv6', () => {
    assert.deepEqual(parseHostPort('graylog.example.org:12201'), {
      host: 'graylog.example.org',
      port: 12201,
    });
    assert.deepEqual(parseHostPort('127.0.0.1:1'), { host: '127.0.0.1', port: 1 });
    assert.deepEqual(parseHostPort('[::1]:8080'), { host: '::1', port: 8080 });
  });

  it('uses the default port only when one is given', () => {
    assert.deepEqual(parseHostPort('carbon', 2003), { host: 'carbon', port: 2003 });
    assert.deepEqual(parseHostPort('[::1]', 2003), { host: '::1', port: 2003 });
    assert.throws(() => parseHostPort('carbon'), AddressError);
    assert.throws(() => parseHostPort('carbon'), /"carbon" has no port, expected host:port/);
  });

  it('formats back, with brackets for IPv6', () => {
    assert.equal(formatHostPort({ host: '::1', port: 9092 }), '[::1]:9092');
    assert.equal(formatHostPort({ host: 'h', port: 1 }), 'h:1');
  });
});
