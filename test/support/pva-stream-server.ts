/**
 * A paced PVA load generator in its own process: the fake PVA server serving PV_COUNT NTScalar doubles (value 1
 * at first) and, while started, streaming value + timestamp updates to them round-robin (FakePvaServer.stream).
 * For benchmarks of more updates than a QSRV IOC can serve on the same machine.
 *
 * Usage: tsx test/support/pva-stream-server.ts SEARCH_PORT PV_COUNT PREFIX
 * Prints "READY <tcp port>", then answers each line on stdin:
 *   START <updates per second>  -> STARTED
 *   STOP                        -> STOPPED
 *   COUNTS                      -> COUNTS <JSON array: each PV's value now, 1 + updates streamed to it>
 * and exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { startDoublePvServer } from './pva-server/double-pvs.js';

const [searchPort, pvCount, prefix] = process.argv.slice(2);
const { server, pvs } = await startDoublePvServer(Number(searchPort), Number(pvCount), prefix ?? '', () => 1);
let stop: (() => void) | undefined;
console.log(`READY ${server.port}`);
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const [command, argument] = line.trim().split(/\s+/);
  if (command === 'START') {
    stop?.();
    stop = server.stream(Number(argument));
    console.log('STARTED');
  } else if (command === 'STOP') {
    stop?.();
    stop = undefined;
    console.log('STOPPED');
  } else if (command === 'COUNTS') {
    console.log(`COUNTS ${JSON.stringify(pvs.map((pv) => 1 + pv.streamed))}`);
  } else {
    console.log(`ERROR unknown command ${JSON.stringify(line)}`);
  }
});
input.on('close', () => {
  stop?.();
  void server.close().then(() => process.exit(0));
});
