import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  broadcastAddresses,
  interfaceBroadcasts,
  ipv4FromString,
  ipv4ToString,
  isMulticast,
  parseEndpoint,
} from '../../../src/epics/common/addresses.js';

describe('IPv4 addresses and endpoints', () => {
  it('converts addresses both ways', () => {
    assert.equal(ipv4ToString(0x7f000001), '127.0.0.1');
    assert.equal(ipv4FromString('192.168.1.255'), 0xc0a801ff);
    assert.equal(ipv4FromString('256.1.1.1'), undefined);
    assert.equal(ipv4FromString('host'), undefined);
  });

  it('parses host and host:port entries, with the multicast suffixes of pvAccess lists', () => {
    assert.deepEqual(parseEndpoint('pv-gw.example.org:5075', 1), { host: 'pv-gw.example.org', port: 5075 });
    assert.deepEqual(parseEndpoint('10.0.0.255', 5064), { host: '10.0.0.255', port: 5064 });
    assert.deepEqual(parseEndpoint('224.0.0.128,8@lo', 5076), { host: '224.0.0.128', port: 5076 });
    assert.match(String(parseEndpoint('h:99999', 1)), /malformed/);
    assert.match(String(parseEndpoint('host:x', 1)), /malformed/);
    assert.match(String(parseEndpoint(':5064', 1)), /malformed/);
    assert.match(String(parseEndpoint('[::1]:5076', 1)), /IPv6/);
  });

  it('tells multicast groups from other addresses', () => {
    assert.equal(isMulticast('224.0.0.128'), true);
    assert.equal(isMulticast('239.255.255.255'), true);
    assert.equal(isMulticast('240.0.0.1'), false);
    assert.equal(isMulticast('127.255.255.255'), false);
    assert.equal(isMulticast('224.host'), false);
  });

  it('derives broadcast addresses from IPv4 interfaces, loopback only when asked', () => {
    const info = (address: string, netmask: string, internal = false) => ({
      address,
      netmask,
      internal,
      family: 'IPv4' as const,
      mac: '00:00:00:00:00:00',
      cidr: null,
    });
    assert.deepEqual(
      broadcastAddresses({
        lo: [info('127.0.0.1', '255.0.0.0', true)],
        eth0: [info('192.168.10.7', '255.255.255.0')],
        eth1: [info('10.1.2.3', '255.255.0.0')],
      }),
      ['192.168.10.255', '10.1.255.255'],
    );
    assert.deepEqual(interfaceBroadcasts({ lo: [info('127.0.0.1', '255.0.0.0', true)] }), [
      { address: '127.0.0.1', broadcast: '127.255.255.255', internal: true },
    ]);
    assert.deepEqual(interfaceBroadcasts({ eth0: [info('192.168.10.7', '255.255.255.0')] }), [
      { address: '192.168.10.7', broadcast: '192.168.10.255', internal: false },
    ]);
  });
});
