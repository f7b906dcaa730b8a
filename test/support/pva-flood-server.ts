/**
 * A load generator: the fake PVA server serving PV_COUNT NTScalar doubles and flooding every monitor with
 * steady-state updates (value + timestamp, as QSRV sends them) as fast as the client reads.
 *
 * Usage: tsx test/support/pva-flood-server.ts SEARCH_PORT PV_COUNT PREFIX
 * Prints "READY <tcp port>". Each line on stdin is answered with "FLOODED <updates sent so far>"; the server
 * exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { startDoublePvServer } from './pva-server/double-pvs.js';

const [searchPort, pvCount, prefix] = process.argv.slice(2);
const { server } = await startDoublePvServer(Number(searchPort), Number(pvCount), prefix ?? '', (i) => i);
server.flood();
console.log(`READY ${server.port}`);
const input = createInterface({ input: process.stdin });
input.on('line', () => console.log(`FLOODED ${server.log.flooded}`));
input.on('close', () => {
  void server.close().then(() => process.exit(0));
});
