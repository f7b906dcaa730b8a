import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPvaConfig } from '../../../src/epics/pva/config.js';
import { encodeSearch } from '../../../src/epics/pva/messages.js';
import { MAX_SEARCH_DATAGRAM } from '../../../src/epics/pva/protocol.js';
import { SEARCH_BUCKETS, SearchScheduler, packSearchChannels } from '../../../src/epics/pva/search.js';
import { WireWriter } from '../../../src/epics/pva/wire.js';

/** The ticks (seconds after the initial search) at which an unanswered item is searched again. */
function retryTicks(scheduler: SearchScheduler<string>, item: string, ticks: number): number[] {
  const out: number[] = [];
  for (let t = 1; t <= ticks; t++) if (scheduler.tick().includes(item)) out.push(t);
  return out;
}

describe('search back-off', () => {
  it('searches new items once in the initial batch, then after 1, 2, 3, … 30 s, then every 30 s', () => {
    const scheduler = new SearchScheduler<string>();
    scheduler.add('pv');
    assert.deepEqual(scheduler.takeInitial(), ['pv']);
    const ticks = retryTicks(scheduler, 'pv', 600);
    const gaps = ticks.map((t, i) => t - (ticks[i - 1] ?? 0));
    assert.deepEqual(
      gaps.slice(0, 30),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    assert.ok(gaps.slice(30).every((gap) => gap === SEARCH_BUCKETS));
  });

  it('stops searching removed items and restarts the back-off when an item is added again', () => {
    const scheduler = new SearchScheduler<string>();
    scheduler.add('a');
    scheduler.add('b');
    scheduler.takeInitial();
    for (let t = 0; t < 10; t++) scheduler.tick();
    scheduler.remove('a');
    assert.equal(scheduler.has('a'), false);
    assert.deepEqual(retryTicks(scheduler, 'a', 60), []);
    scheduler.add('b');
    assert.deepEqual(scheduler.takeInitial(), ['b']);
    assert.deepEqual(retryTicks(scheduler, 'b', 4), [1, 3]);
  });

  it('defers a refused channel to the slowest bucket', () => {
    const scheduler = new SearchScheduler<string>();
    scheduler.deferToSlowest('x');
    assert.deepEqual(retryTicks(scheduler, 'x', 30), [30]);
  });

  it('packs names into datagrams of at most 1400 bytes', () => {
    const channels = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `SOME:LONG:PV:NAME:${i}` }));
    const groups = packSearchChannels(channels);
    assert.equal(groups.flat().length, 1000);
    for (const [index, group] of groups.entries()) {
      const writer = new WireWriter(false);
      encodeSearch(writer, {
        sequenceId: 1,
        flags: 0,
        responseAddress: null,
        responsePort: 5076,
        protocols: ['tcp'],
        channels: group,
      });
      const size = writer.take().length;
      assert.ok(size <= MAX_SEARCH_DATAGRAM, `${size} bytes`);
      if (index < groups.length - 1) assert.ok(size > MAX_SEARCH_DATAGRAM - 40, 'datagrams are filled');
    }
  });
});

describe('client configuration from the environment', () => {
  it('reads address list, name servers and ports, with the broadcast port as default search port', () => {
    const config = readPvaConfig({
      EPICS_PVA_ADDR_LIST: '127.0.0.1  127.0.0.2:6000 224.0.0.128,8@lo',
      EPICS_PVA_AUTO_ADDR_LIST: 'NO',
      EPICS_PVA_BROADCAST_PORT: '15076',
      EPICS_PVA_SERVER_PORT: '15075',
      EPICS_PVA_NAME_SERVERS: 'localhost 127.0.0.1:7000',
    });
    assert.deepEqual(config.searchDestinations, [
      { host: '127.0.0.1', port: 15076, broadcast: false },
      { host: '127.0.0.2', port: 6000, broadcast: false },
      { host: '224.0.0.128', port: 15076, broadcast: true },
    ]);
    assert.deepEqual(config.nameServers, [
      { host: 'localhost', port: 15075 },
      { host: '127.0.0.1', port: 7000 },
    ]);
    assert.equal(config.broadcastPort, 15076);
    assert.equal(config.serverPort, 15075);
  });

  it('uses the EPICS defaults: ports 5076/5075, 40 s idle timeout, 15 s echo', () => {
    const config = readPvaConfig({ EPICS_PVA_AUTO_ADDR_LIST: 'no' });
    assert.equal(config.broadcastPort, 5076);
    assert.equal(config.serverPort, 5075);
    assert.deepEqual(config.searchDestinations, []);
    assert.equal(config.idleTimeoutMs, 40_000);
    assert.equal(config.echoIntervalMs, 15_000);
  });

  it('scales liveness with EPICS_PVA_CONN_TMO and keeps the echo within 1–15 s', () => {
    assert.equal(
      readPvaConfig({ EPICS_PVA_AUTO_ADDR_LIST: 'NO', EPICS_PVA_CONN_TMO: '3' }).idleTimeoutMs,
      4000,
    );
    assert.equal(
      readPvaConfig({ EPICS_PVA_AUTO_ADDR_LIST: 'NO', EPICS_PVA_CONN_TMO: '3' }).echoIntervalMs,
      1500,
    );
    assert.equal(
      readPvaConfig({ EPICS_PVA_AUTO_ADDR_LIST: 'NO', EPICS_PVA_CONN_TMO: '0.3' }).echoIntervalMs,
      1000,
    );
  });

  it('adds interface broadcast addresses only when EPICS_PVA_AUTO_ADDR_LIST is not NO', () => {
    const auto = readPvaConfig({ EPICS_PVA_ADDR_LIST: '127.0.0.1' });
    assert.ok(auto.searchDestinations.slice(1).every((d) => d.broadcast && d.port === 5076));
    const manual = readPvaConfig({ EPICS_PVA_ADDR_LIST: '127.0.0.1', EPICS_PVA_AUTO_ADDR_LIST: 'NO' });
    assert.equal(manual.searchDestinations.length, 1);
  });

  it('listens for beacons at the broadcast entries of the search list, or where EPICS_PVA_INTF_ADDR_LIST says', () => {
    const fromSearches = readPvaConfig({
      EPICS_PVA_ADDR_LIST: '127.0.0.1 127.255.255.255 224.0.0.128 127.255.255.255',
      EPICS_PVA_AUTO_ADDR_LIST: 'NO',
      EPICS_PVA_BROADCAST_PORT: '15076',
    });
    assert.deepEqual(fromSearches.beaconAddresses, [
      { host: '127.255.255.255', port: 15076 },
      { host: '224.0.0.128', port: 15076 },
    ]);
    const listed = readPvaConfig({
      EPICS_PVA_ADDR_LIST: '127.0.0.1',
      EPICS_PVA_AUTO_ADDR_LIST: 'NO',
      EPICS_PVA_INTF_ADDR_LIST: '127.0.0.1 224.0.0.128 255.255.255.255:6000 127.255.255.255 192.0.2.1',
    });
    assert.deepEqual(listed.beaconAddresses, [
      { host: '127.255.255.255', port: 5076 }, // loopback's address stands for its broadcast address
      { host: '224.0.0.128', port: 5076 },
      { host: '255.255.255.255', port: 6000 },
    ]);
    assert.deepEqual(listed.warnings, [
      'EPICS_PVA_INTF_ADDR_LIST: "192.0.2.1" is neither an address of this host\'s interfaces nor a broadcast or ' +
        'multicast address; ignored',
    ]);
    const everyInterface = readPvaConfig({
      EPICS_PVA_AUTO_ADDR_LIST: 'NO',
      EPICS_PVA_INTF_ADDR_LIST: '0.0.0.0',
    });
    assert.ok(everyInterface.beaconAddresses.some((endpoint) => endpoint.host === '127.255.255.255'));
  });

  it('ignores malformed entries and values with a warning', () => {
    const config = readPvaConfig({
      EPICS_PVA_ADDR_LIST: '127.0.0.1:99999 [::1]:5076 host:x',
      EPICS_PVA_AUTO_ADDR_LIST: 'NO',
      EPICS_PVA_BROADCAST_PORT: 'abc',
    });
    assert.deepEqual(config.searchDestinations, []);
    assert.equal(config.broadcastPort, 5076);
    assert.equal(config.warnings.length, 4);
    assert.match(config.warnings.join('\n'), /EPICS_PVA_ADDR_LIST: entry "\[::1\]:5076" is IPv6/);
  });
});
