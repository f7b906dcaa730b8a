import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BeaconTracker, decodeBeaconDatagram } from '../../../src/epics/pva/beacons.js';
import { encodeBeacon, encodeSearch } from '../../../src/epics/pva/messages.js';
import { SearchScheduler } from '../../../src/epics/pva/search.js';
import { PvaProtocolError, WireWriter } from '../../../src/epics/pva/wire.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/**
 * A beacon as pvxs servers send it: big-endian, GUID, flags 0, sequence 3, change count 1, address "any"
 * (::ffff:0.0.0.0), TCP port 5075, protocol "tcp", null server status.
 */
const beacon = hex(`ca 02 c0 00 00 00 00 27
                    30 be d2 c4 3d 00 d4 45 60 c7 e1 7c  00 03 00 01
                    00 00 00 00 00 00 00 00 00 00 ff ff 00 00 00 00  13 d3  03 74 63 70  ff`);

const decoded = {
  guid: '30bed2c43d00d44560c7e17c',
  flags: 0,
  sequence: 3,
  changeCount: 1,
  serverAddress: null,
  serverPort: 5075,
  protocol: 'tcp',
};

describe('beacon datagrams', () => {
  it('decodes a beacon byte by byte, and encodes it back', () => {
    assert.deepEqual(decodeBeaconDatagram(beacon), [decoded]);
    const writer = new WireWriter(false);
    encodeBeacon(writer, decoded);
    assert.deepEqual(writer.take(), beacon);
  });

  it('reads little-endian beacons and an explicit server address', () => {
    const writer = new WireWriter(true);
    encodeBeacon(writer, { ...decoded, serverAddress: '127.0.0.7', changeCount: 0x1234, sequence: 255 });
    assert.deepEqual(decodeBeaconDatagram(writer.take()), [
      { ...decoded, serverAddress: '127.0.0.7', changeCount: 0x1234, sequence: 255 },
    ]);
  });

  it('skips the searches of other clients that arrive at the same address and port', () => {
    const writer = new WireWriter(false);
    encodeSearch(writer, {
      sequenceId: 1,
      flags: 0,
      responseAddress: null,
      responsePort: 5076,
      protocols: ['tcp'],
      channels: [{ id: 1, name: 'PV' }],
    });
    const search = writer.take();
    assert.deepEqual(decodeBeaconDatagram(search), []);
    assert.deepEqual(decodeBeaconDatagram(Buffer.concat([search, beacon])), [decoded]);
  });

  it('refuses a datagram shorter than its beacon, or not pvAccess at all', () => {
    assert.throws(() => decodeBeaconDatagram(beacon.subarray(0, 30)), PvaProtocolError);
    assert.throws(() => decodeBeaconDatagram(hex('00 00 00 0d 00 00 00 00 00 00 00 00')), /bad magic/);
    const runt = Buffer.from(beacon);
    runt.writeUInt32BE(10, 4); // a beacon payload of 10 bytes: the server port is missing
    assert.throws(() => decodeBeaconDatagram(runt.subarray(0, 18)), PvaProtocolError);
  });
});

describe('beacon tracker', () => {
  const MINUTE = 60_000;
  const guid = (n: number): string => n.toString(16).padStart(24, '0');

  it('reports a known server heard with a new GUID (restarted), once', () => {
    const tracker = new BeaconTracker(0);
    assert.equal(tracker.observe('a:5075', guid(1), 40, 1000), false, 'running before the client started');
    assert.equal(tracker.observe('a:5075', guid(1), 41, 16_000), false);
    assert.equal(tracker.observe('a:5075', guid(1), 41, 16_001), false, 'the same beacon over another route');
    assert.equal(tracker.observe('a:5075', guid(2), 0, 20_000), true, 'restarted');
    assert.equal(tracker.observe('a:5075', guid(2), 1, 35_000), false);
    assert.equal(tracker.serverCount, 1);
  });

  it('reports a server heard for the first time when it has just started, or once every server was heard', () => {
    const tracker = new BeaconTracker(0);
    assert.equal(tracker.observe('b:5075', guid(3), 2, 1000), true, 'within its first beacons');
    assert.equal(tracker.observe('c:5075', guid(4), 10, 2000), false, 'long running, or not heard before');
    const listenedLongEnough = BeaconTracker.LONGEST_BEACON_INTERVAL_MS;
    assert.equal(tracker.observe('d:5075', guid(5), 200, listenedLongEnough), true);
  });

  it('forgets servers not heard for twice the longest beacon interval', () => {
    const tracker = new BeaconTracker(0);
    tracker.observe('a:5075', guid(1), 50, 0);
    tracker.observe('b:5075', guid(2), 50, 5 * MINUTE);
    tracker.forgetSilent(BeaconTracker.FORGET_AFTER_MS);
    assert.equal(tracker.serverCount, 1);
    assert.equal(
      tracker.observe('a:5075', guid(1), 53, BeaconTracker.FORGET_AFTER_MS),
      true,
      'a server again',
    );
  });
});

describe('search boost on a beacon anomaly', () => {
  it('sends every waiting item back to the initial batch, its back-off restarted', () => {
    const scheduler = new SearchScheduler<string>();
    scheduler.add('lost');
    scheduler.add('never');
    scheduler.takeInitial();
    for (let t = 0; t < 20; t++) scheduler.tick(); // both now wait several seconds between searches
    scheduler.boost();
    assert.deepEqual(scheduler.takeInitial().sort(), ['lost', 'never']);
    const ticks: number[] = [];
    for (let t = 1; t <= 6; t++) if (scheduler.tick().includes('lost')) ticks.push(t);
    assert.deepEqual(ticks, [1, 3, 6]);
    assert.equal(scheduler.size, 2);
  });
});
