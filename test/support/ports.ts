import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

async function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

async function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolveFree(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolveFree(true)));
  });
}

const handedOut = new Set<number>();

/**
 * A loopback port free for both TCP and UDP (EPICS servers use both on one number). Ports are drawn from
 * 20000-59999, away from the EPICS defaults, and never handed out twice by one process.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if (handedOut.has(port)) continue;
    if ((await tcpPortFree(port)) && (await udpPortFree(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found');
}
