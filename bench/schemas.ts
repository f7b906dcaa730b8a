/**
 * Serialisation speed of the hot messages (f144 scalar double, f144 array of 1,000 doubles, al00, ep01) against
 * the Python reference library measured in the same run (ess-streaming-data-types in the test venv), with the
 * ratio. Each figure is the best of several timed rounds, for both sides. Run: npm run bench:schemas
 */
import type { PvValue } from '../src/model/update.js';
import { Al00Serialiser } from '../src/schemas/al00.js';
import { Ep01Serialiser } from '../src/schemas/ep01.js';
import { F144Serialiser, serialiseF144 } from '../src/schemas/f144.js';
import { runPythonCode } from '../test/support/python.js';

const PV = 'SIMPLE:DOUBLE';
const T = 1585332414000000000n;
const ROUNDS = 5;
const ROUND_MS = 400;
/** Inputs cycle through this many prepared values, so the loop measures serialisation, not input creation. */
const VARIETY = 1024;

interface Figure {
  opsPerSecond: number;
  bytesPerMessage: number;
}

/**
 * Best-of-rounds rate of `serialise(i)`, each round running for about ROUND_MS. Every result is read (its length
 * summed), so no serialisation can be optimised away.
 */
function measure(serialise: (i: number) => Uint8Array): Figure {
  let produced = 0;
  for (let i = 0; i < 20_000; i++) produced += serialise(i).length;
  let best: Figure = { opsPerSecond: 0, bytesPerMessage: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let count = 0;
    let bytes = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(ROUND_MS) * 1_000_000n;
    let now = start;
    while (now < end) {
      for (let i = 0; i < 1000; i++) bytes += serialise(count + i).length;
      count += 1000;
      now = process.hrtime.bigint();
    }
    const opsPerSecond = count / (Number(now - start) / 1e9);
    if (opsPerSecond > best.opsPerSecond) best = { opsPerSecond, bytesPerMessage: bytes / count };
    produced += bytes;
  }
  if (produced === 0) throw new Error('nothing serialised');
  return best;
}

const timestamps = Array.from({ length: VARIETY }, (_, i) => T + BigInt(i) * 1_000_000n);
const doubles: PvValue[] = Array.from({ length: VARIETY }, (_, i) => ({
  kind: 'scalar',
  type: 'float64',
  value: i + 0.5,
}));
const waveform: PvValue = {
  kind: 'array',
  type: 'float64',
  value: Float64Array.from({ length: 1000 }, (_, i) => i / 7),
};
const alarms = [
  { severity: 1, message: 'HIGH' },
  { severity: 2, message: 'HIHI' },
  { severity: 0, message: 'NO_ALARM' },
] as const;

const f144 = new F144Serialiser(PV, 'ca');
const al00 = new Al00Serialiser(PV);
const ep01 = new Ep01Serialiser(PV);
const at = <T>(items: readonly T[], i: number): T => items[i % items.length] as T;

const ours: Record<string, Figure> = {
  'f144 scalar double': measure((i) => f144.serialise(at(doubles, i), at(timestamps, i))),
  'f144 array of 1,000 doubles': measure((i) => f144.serialise(waveform, at(timestamps, i))),
  al00: measure((i) => al00.serialise(at(timestamps, i), at(alarms, i))),
  ep01: measure((i) => ep01.serialise(at(timestamps, i), i % 2 === 0 ? 'connected' : 'disconnected')),
};
const plainF144 = measure((i) =>
  serialiseF144({
    sourceName: PV,
    timestampNs: at(timestamps, i),
    value: { kind: 'scalar', type: 'float64', value: i + 0.5 },
  }),
);

const python = `
import json, timeit
import numpy as np
from streaming_data_types.logdata_f144 import serialise_f144
from streaming_data_types.alarm_al00 import serialise_al00, Severity
from streaming_data_types.epics_connection_ep01 import serialise_ep01, ConnectionInfo

PV, T, N = ${JSON.stringify(PV)}, ${T}, ${VARIETY}
timestamps = [T + i * 1_000_000 for i in range(N)]
doubles = [i + 0.5 for i in range(N)]
waveform = np.arange(1000, dtype=np.float64) / 7
alarms = [(Severity.MINOR, 'HIGH'), (Severity.MAJOR, 'HIHI'), (Severity.OK, 'NO_ALARM')]
states = [ConnectionInfo.CONNECTED, ConnectionInfo.DISCONNECTED]
counter = iter(range(10**12))

cases = {
    'f144 scalar double': lambda i: serialise_f144(PV, doubles[i % N], timestamps[i % N]),
    'f144 array of 1,000 doubles': lambda i: serialise_f144(PV, waveform, timestamps[i % N]),
    'al00': lambda i: serialise_al00(PV, timestamps[i % N], *alarms[i % 3]),
    'ep01': lambda i: serialise_ep01(timestamps[i % N], states[i % 2], PV),
}
figures = {}
for name, serialise in cases.items():
    size = len(serialise(0))
    run = lambda: serialise(next(counter))
    number = 1
    while timeit.timeit(run, number=number) < ${ROUND_MS / 1000}:
        number *= 2
    best = min(timeit.repeat(run, number=number, repeat=${ROUNDS}))
    figures[name] = {'opsPerSecond': number / best, 'bytesPerMessage': size}
print(json.dumps(figures))
`;
const reference = JSON.parse((await runPythonCode(python, { timeoutMs: 300_000 })).stdout) as Record<
  string,
  Figure
>;

const format = (value: number, digits = 0): string =>
  value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const rows = Object.entries(ours).map(([name, figure]) => {
  const theirs = reference[name];
  if (theirs === undefined) throw new Error(`no Python figure for ${name}`);
  return {
    serialisation: name,
    'ours msg/s': format(figure.opsPerSecond),
    'ours MB/s': format((figure.opsPerSecond * figure.bytesPerMessage) / 1e6, 1),
    'Python msg/s': format(theirs.opsPerSecond),
    'Python MB/s': format((theirs.opsPerSecond * theirs.bytesPerMessage) / 1e6, 1),
    ratio: `${format(figure.opsPerSecond / theirs.opsPerSecond, 1)}x`,
    'bytes/msg': figure.bytesPerMessage,
  };
});
console.log(
  `Serialisation, best of ${ROUNDS} rounds of ~${ROUND_MS} ms, one core (Node ${process.version}):`,
);
console.table(rows);
console.log(
  `serialiseF144 without the per-PV serialiser's prebuilt buffer: ${format(plainF144.opsPerSecond)} msg/s`,
);

const scalar = ours['f144 scalar double'];
const scalarReference = reference['f144 scalar double'];
if (scalar !== undefined && scalarReference !== undefined) {
  const ratio = scalar.opsPerSecond / scalarReference.opsPerSecond;
  console.log(
    `target f144 scalar >= 1,000,000 msg/s: ${scalar.opsPerSecond >= 1e6 ? 'met' : 'MISSED'} (${format(scalar.opsPerSecond)}); ` +
      `>= 20x Python: ${ratio >= 20 ? 'met' : 'MISSED'} (${format(ratio, 1)}x)`,
  );
}
