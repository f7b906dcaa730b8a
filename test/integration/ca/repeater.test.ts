import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../src/logging/logger.js';
import { Command } from '../../../src/epics/ca/constants.js';
import { encodeMessage, encodeRepeaterRegister } from '../../../src/epics/ca/messages.js';
import { CaRepeater } from '../../../src/epics/ca/repeater.js';
import { freePort } from '../../support/ports.js';

async function udpClient(): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (message: Buffer) => received.push(message));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, received };
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !condition(); i++)
    await new Promise((resolveWait) => setTimeout(resolveWait, 20));
  assert.ok(condition());
};

describe('in-process CA repeater', { timeout: 20_000 }, () => {
  const cleanup: (() => unknown)[] = [];
  after(async () => {
    for (const step of cleanup) await step();
  });

  it('confirms registrations and forwards beacons to every registered client', async () => {
    const port = await freePort();
    const repeater = await CaRepeater.open(port, silentLogger);
    assert.ok(repeater);
    cleanup.push(() => repeater.close());
    assert.equal(await CaRepeater.open(port, silentLogger), undefined, 'the port is held exclusively');

    const first = await udpClient();
    const second = await udpClient();
    const beaconSource = await udpClient();
    cleanup.push(
      () => first.socket.close(),
      () => second.socket.close(),
      () => beaconSource.socket.close(),
    );
    first.socket.send(encodeRepeaterRegister(0x7f000001), port, '127.0.0.1');
    second.socket.send(Buffer.alloc(0), port, '127.0.0.1');
    await until(() => first.received.length === 1 && second.received.length === 1);
    assert.equal(first.received[0]?.readUInt16BE(0), Command.REPEATER_CONFIRM);
    assert.equal(first.received[0]?.readUInt32BE(12), 0x7f000001);
    assert.equal(repeater.clientCount, 2);

    const beacon = encodeMessage(Command.RSRV_IS_UP, 13, 5064, 7, 0x7f000001);
    beaconSource.socket.send(beacon, port, '127.0.0.1');
    await until(() => first.received.length === 2 && second.received.length === 2);
    assert.deepEqual(first.received[1], beacon);
    assert.deepEqual(second.received[1], beacon);
  });
});
