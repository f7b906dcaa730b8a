/**
 * A paced PVA load generator in its own process: the fake PVA server serving PV_COUNT NTScalar doubles (value 1
 * at first) and, while started, streaming value + timestamp updates to them round-robin (FakePvaServer.stream).
 * For benchmarks of more updates than a QSRV IOC can serve on the same machine. With KIND `ntndarray:N` the PVs
 * are NTNDArray frames of N doubles (p4p's layout, uniqueId 1 at first) and each update is a whole frame; with
 * `ntscalararray:N` NTScalarArrays of N doubles (the first 1 at first).
 *
 * Usage: tsx test/support/pva-stream-server.ts SEARCH_PORT PV_COUNT PREFIX [KIND]
 * Prints "READY <tcp port>", then answers each line on stdin:
 *   START <updates per second>  -> STARTED
 *   STOP                        -> STOPPED
 *   COUNTS                      -> COUNTS <JSON array: each PV's count now (value, first element or uniqueId),
 *                                  1 + updates streamed to it>
 *   SKIPPED                     -> SKIPPED <updates not sent because the client did not read fast enough>
 * and exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { type ArrayPvKind, startArrayPvServer } from './pva-server/array-pvs.js';
import { startDoublePvServer } from './pva-server/double-pvs.js';

const [searchPort, pvCount, prefix = '', kind = 'double'] = process.argv.slice(2);
const [arrayKind, elements] = kind.split(':');
if (
  kind !== 'double' &&
  !(['ntndarray', 'ntscalararray'].includes(arrayKind ?? '') && Number(elements) > 0)
) {
  console.log(`ERROR KIND is double, ntndarray:N or ntscalararray:N, not ${kind}`);
  process.exit(2);
}
const { server, pvs } =
  kind === 'double'
    ? await startDoublePvServer(Number(searchPort), Number(pvCount), prefix, () => 1)
    : await startArrayPvServer(
        Number(searchPort),
        Number(pvCount),
        prefix,
        arrayKind as ArrayPvKind,
        Number(elements),
      );
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
  } else if (command === 'SKIPPED') {
    console.log(`SKIPPED ${server.log.streamSkipped}`);
  } else {
    console.log(`ERROR unknown command ${JSON.stringify(line)}`);
  }
});
input.on('close', () => {
  stop?.();
  void server.close().then(() => process.exit(0));
});
