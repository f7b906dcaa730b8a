/**
 * Runs the fake CA server in its own process, serving `count` double PVs named `STREAM:<i>` and streaming
 * updates to their subscribers at a total rate (benchmark load that a real IOC cannot offer evenly).
 *
 * Usage: tsx test/support/ca-stream-server.ts COUNT UPDATES_PER_SECOND
 * Prints the client environment as one JSON line, then runs until SIGTERM.
 */
import { FakeCaServer, fakeDouble } from './ca-fake-server.js';

const count = Number(process.argv[2] ?? 1000);
const rate = Number(process.argv[3] ?? 100_000);
const pvs = Object.fromEntries(Array.from({ length: count }, (_, i) => [`STREAM:${i}`, fakeDouble(0)]));
const server = await FakeCaServer.start(pvs);
const stop = server.stream(rate);
console.log(JSON.stringify(server.clientEnv));
process.once('SIGTERM', () => {
  stop();
  void server.stop().then(() => process.exit(0));
});
