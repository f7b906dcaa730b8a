import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestIoc } from '../../support/ioc.js';
import { runPython, runPythonCode } from '../../support/python.js';

/** Reads PVs with caproto (CA) or p4p (PVA) and returns them as JSON. */
async function readWithPython(ioc: TestIoc, protocol: 'ca' | 'pva', names: string[]): Promise<unknown[]> {
  const code =
    protocol === 'ca'
      ? `
import json, sys
from caproto.threading.client import Context
ctx = Context()
out = []
for pv in ctx.get_pvs(*sys.argv[1:], timeout=10):
    data = pv.read(timeout=10).data
    out.append([d.decode() if isinstance(d, bytes) else d.item() for d in data])
print(json.dumps(out))
`
      : `
import json, sys
from p4p.client.thread import Context
ctx = Context('pva', nt=False)
out = []
for name in sys.argv[1:]:
    value = ctx.get(name, timeout=10)['value']
    out.append(value.tolist() if hasattr(value, 'tolist') else value)
print(json.dumps(out))
`;
  const { stdout } = await runPython(['-c', code, ...names.map((n) => ioc.pv(n))], { env: ioc.clientEnv });
  return JSON.parse(stdout) as unknown[];
}

describe('test IOC (pvxslibs softIoc) read by the Python reference clients', () => {
  let ioc: TestIoc;
  before(async () => {
    ioc = await TestIoc.start();
  });
  after(async () => {
    await ioc.stop();
  });

  for (const protocol of ['ca', 'pva'] as const) {
    it(`serves a double, a string and an array over ${protocol}`, async () => {
      const [ao, str, wf] = await readWithPython(ioc, protocol, ['ao', 'SIMPLE:STR', 'wf:double']);
      assert.deepEqual(protocol === 'ca' ? ao : [ao], [1.5]);
      assert.deepEqual(protocol === 'ca' ? str : [str], ['test']);
      assert.deepEqual(wf, [0.25, 1.25, 2.25, 3.25, 4.25]);
    });
  }

  it('serves again after a kill and a restart', async () => {
    await ioc.kill();
    await assert.rejects(
      runPythonCode(
        `from caproto.threading.client import Context; Context().get_pvs('${ioc.pv('ao')}', timeout=1)[0].read(timeout=1)`,
        { env: ioc.clientEnv },
      ),
    );
    await ioc.start();
    assert.deepEqual(await readWithPython(ioc, 'ca', ['ao']), [[1.5]]);
    assert.deepEqual(await readWithPython(ioc, 'pva', ['ao']), [1.5]);
  });
});
