/** The PVs the benchmarks' load servers (pva-flood-server.ts, pva-stream-server.ts) serve. */
import { scalarDesc, structure } from '../../../src/epics/pva/introspection.js';
import { ntType } from '../pva-types.js';
import type { FakePv } from './pv.js';
import { FakePvaServer } from './server.js';

/**
 * A server answering searches on `searchPort` with `count` NTScalar doubles with units, named `prefix` + index,
 * each with the value `valueOf(i)`.
 */
export async function startDoublePvServer(
  searchPort: number,
  count: number,
  prefix: string,
  valueOf: (index: number) => number,
): Promise<{ server: FakePvaServer; pvs: FakePv[] }> {
  const type = ntType(scalarDesc.float64, {
    display: structure('display_t', { units: scalarDesc.string, precision: scalarDesc.int32 }),
  });
  const server = await FakePvaServer.start({ searchPort });
  const secondsPastEpoch = BigInt(Math.floor(Date.now() / 1000));
  const pvs = Array.from({ length: count }, (_, i) =>
    server.addPv(`${prefix}${i}`, type, {
      value: valueOf(i),
      alarm: { severity: 0, status: 0, message: 'NO_ALARM' },
      timeStamp: { secondsPastEpoch, nanoseconds: 0, userTag: 0 },
      display: { units: 'mA', precision: 3 },
    }),
  );
  return { server, pvs };
}
