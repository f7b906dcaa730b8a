/**
 * A load generator: the fake PVA server serving PV_COUNT NTScalar doubles and flooding every monitor with
 * steady-state updates (value + timestamp, as QSRV sends them) as fast as the client reads.
 *
 * Usage: tsx test/support/pva-flood-server.ts SEARCH_PORT PV_COUNT PREFIX
 * Prints "READY <tcp port>". Each line on stdin is answered with "FLOODED <updates sent so far>"; the server
 * exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { scalarDesc, structure } from '../../src/epics/pva/introspection.js';
import { FakePvaServer } from './pva-server.js';
import { ntType } from './pva-types.js';

const [searchPort, pvCount, prefix] = process.argv.slice(2);
const type = ntType(scalarDesc.float64, {
  display: structure('display_t', { units: scalarDesc.string, precision: scalarDesc.int32 }),
});

const server = await FakePvaServer.start({ searchPort: Number(searchPort) });
for (let i = 0; i < Number(pvCount); i++) {
  server.addPv(`${prefix}${i}`, type, {
    value: i,
    alarm: { severity: 0, status: 0, message: 'NO_ALARM' },
    timeStamp: { secondsPastEpoch: BigInt(Math.floor(Date.now() / 1000)), nanoseconds: 0, userTag: 0 },
    display: { units: 'mA', precision: 3 },
  });
}
server.flood();
console.log(`READY ${server.port}`);
const input = createInterface({ input: process.stdin });
input.on('line', () => console.log(`FLOODED ${server.log.flooded}`));
input.on('close', () => {
  void server.close().then(() => process.exit(0));
});
