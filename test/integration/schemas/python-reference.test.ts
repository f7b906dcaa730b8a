/**
 * Cross-check against the reference library (ess-streaming-data-types in the test venv), both directions, one
 * Python process per direction for the whole batch of cases (cases.ts): the reference deserialisers read our
 * buffers to the expected values, our deserialisers read the reference serialisers' buffers to the expected
 * values, and the two serialisers produce the same bytes.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deserialiseAny } from '../../../src/schemas/registry.js';
import { runPython } from '../../support/python.js';
import { crossCheckCases, pythonCall, pythonView } from './cases.js';

const script = fileURLToPath(new URL('reference.py', import.meta.url));
const cases = crossCheckCases();

interface PythonResult {
  decoded?: unknown;
  tag?: number;
  bytes?: string;
  error?: string;
}

async function runReference(mode: 'decode' | 'encode', requests: unknown[]): Promise<PythonResult[]> {
  const { stdout } = await runPython([script], {
    input: JSON.stringify({ mode, cases: requests }),
    timeoutMs: 60_000,
  });
  const results = JSON.parse(stdout) as PythonResult[];
  assert.equal(results.length, requests.length);
  return results;
}

describe('cross-check with the Python reference serialisers', { timeout: 120_000 }, () => {
  it('covers every schema', () => {
    const schemas = new Set(cases.map((testCase) => testCase.message.schema));
    assert.deepEqual([...schemas].sort(), [
      'ad00',
      'al00',
      'da00',
      'ep00',
      'ep01',
      'f142',
      'f144',
      'fc00',
      'rf5k',
      'se00',
      'senv',
      'tdct',
      'x5f2',
    ]);
  });

  describe('the reference reads our buffers', () => {
    let results: PythonResult[] = [];
    before(async () => {
      results = await runReference(
        'decode',
        cases.map((testCase) => ({ bytes: Buffer.from(testCase.bytes).toString('base64') })),
      );
    });

    it('to the values we serialised, for every case', () => {
      const failures: string[] = [];
      cases.forEach((testCase, i) => {
        const result = results[i];
        try {
          assert.equal(result?.error, undefined);
          assert.deepEqual(
            { decoded: result?.decoded, ...(result?.tag === undefined ? {} : { tag: result.tag }) },
            pythonView(testCase.message),
          );
        } catch (error) {
          failures.push(`${testCase.name}: ${(error as Error).message}`);
        }
      });
      assert.deepEqual(failures, []);
    });
  });

  describe('we read the reference buffers', () => {
    const producible = cases.filter((testCase) => testCase.pythonCanProduce);
    let results: PythonResult[] = [];
    before(async () => {
      results = await runReference(
        'encode',
        producible.map((testCase) => ({ call: pythonCall(testCase.message) })),
      );
    });

    it('to the values the reference serialised, for every case', () => {
      const failures: string[] = [];
      producible.forEach((testCase, i) => {
        const result = results[i];
        try {
          assert.equal(result?.error, undefined);
          assert.deepEqual(deserialiseAny(Buffer.from(result?.bytes ?? '', 'base64')), testCase.message);
        } catch (error) {
          failures.push(`${testCase.name}: ${(error as Error).message}`);
        }
      });
      assert.deepEqual(failures, []);
    });

    it('and the bytes are identical to ours', () => {
      const different = producible
        .filter((testCase, i) => Buffer.from(testCase.bytes).toString('base64') !== results[i]?.bytes)
        // ad00 and da00 lay the image out last, the reference first (image-cases.ts): compared by value only.
        .filter((testCase) => testCase.message.schema !== 'ad00' && testCase.message.schema !== 'da00')
        .map((testCase) => testCase.name);
      assert.deepEqual(different, []);
    });
  });
});
