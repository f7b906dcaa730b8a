import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCaConfig } from '../../../src/epics/ca/config.js';

describe('CA configuration from the environment', () => {
  it('uses the EPICS defaults', () => {
    const config = readCaConfig({});
    assert.deepEqual(config.addressList, []);
    assert.equal(config.autoAddressList, true);
    assert.equal(config.serverPort, 5064);
    assert.equal(config.repeaterPort, 5065);
    assert.equal(config.connectionTimeoutMs, 30_000);
    assert.equal(config.maxSearchPeriodMs, 60_000);
    assert.ok(config.maxArrayBytes >= 100_000 * 8 + 16);
    assert.deepEqual(config.warnings, []);
  });

  it('reads address lists, name servers, ports and timeouts', () => {
    const config = readCaConfig({
      EPICS_CA_ADDR_LIST: ' 127.0.0.1  localhost:7000\t10.0.0.255 ',
      EPICS_CA_AUTO_ADDR_LIST: 'no',
      EPICS_CA_NAME_SERVERS: 'ns.example:5099 127.0.0.2',
      EPICS_CA_SERVER_PORT: '6064',
      EPICS_CA_REPEATER_PORT: '6065',
      EPICS_CA_CONN_TMO: '2.5',
      EPICS_CA_MAX_SEARCH_PERIOD: '120',
    });
    assert.deepEqual(config.addressList, [
      { host: '127.0.0.1', port: 6064 },
      { host: 'localhost', port: 7000 },
      { host: '10.0.0.255', port: 6064 },
    ]);
    assert.equal(config.autoAddressList, false);
    assert.deepEqual(config.nameServers, [
      { host: 'ns.example', port: 5099 },
      { host: '127.0.0.2', port: 6064 },
    ]);
    assert.equal(config.serverPort, 6064);
    assert.equal(config.repeaterPort, 6065);
    assert.equal(config.connectionTimeoutMs, 2500);
    assert.equal(config.maxSearchPeriodMs, 120_000);
  });

  it('honours EPICS_CA_MAX_ARRAY_BYTES when automatic array sizing is off', () => {
    assert.equal(
      readCaConfig({ EPICS_CA_AUTO_ARRAY_BYTES: 'NO', EPICS_CA_MAX_ARRAY_BYTES: '1000000' }).maxArrayBytes,
      1e6,
    );
    assert.equal(
      readCaConfig({ EPICS_CA_AUTO_ARRAY_BYTES: 'NO', EPICS_CA_MAX_ARRAY_BYTES: '100' }).maxArrayBytes,
      16384,
    );
    assert.ok(readCaConfig({ EPICS_CA_MAX_ARRAY_BYTES: '100' }).maxArrayBytes > 1e8);
  });

  it('replaces malformed values by defaults with a warning', () => {
    const config = readCaConfig({
      EPICS_CA_SERVER_PORT: 'abc',
      EPICS_CA_CONN_TMO: '-1',
      EPICS_CA_ADDR_LIST: 'h:99999',
    });
    assert.equal(config.serverPort, 5064);
    assert.equal(config.connectionTimeoutMs, 30_000);
    assert.deepEqual(config.addressList, []);
    assert.equal(config.warnings.length, 3);
  });
});
