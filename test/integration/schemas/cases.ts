/**
 * The cross-check cases: every schema, every union member, each numeric type as scalar and array (empty,
 * 1-element, extremes incl. 64-bit limits, NaN and infinities), non-ASCII and long strings. For each case: the
 * message, how the Python reference would make it (`pythonCall`) and what its deserialiser returns for it
 * (`pythonView`, in reference.py's canonical JSON form).
 */
import type {
  NumericArray,
  NumericScalarValue,
  NumericType,
  TableColumn,
  TableValue,
} from '../../../src/model/update.js';
import { Al00Serialiser } from '../../../src/schemas/al00.js';
import { Ep01Serialiser } from '../../../src/schemas/ep01.js';
import { F142Serialiser } from '../../../src/schemas/f142.js';
import { F144Serialiser } from '../../../src/schemas/f144.js';
import { type F142Value, type F144Value, logValueTag } from '../../../src/schemas/log-value.js';
import { NUMERIC_TYPES, numericTypeOf, TYPED_ARRAY } from '../../../src/schemas/numeric.js';
import type { DecodedMessage } from '../../../src/schemas/registry.js';
import { SAMPLE_VALUE_TAG, Se00Serialiser } from '../../../src/schemas/se00.js';
import { SenvSerialiser } from '../../../src/schemas/senv.js';
import { TdctSerialiser } from '../../../src/schemas/tdct.js';
import { serialiseDecoded } from '../../unit/schemas/helpers.js';
import { imageCases, imagePythonCall, imagePythonView, pythonNumber } from './image-cases.js';

export interface CrossCheckCase {
  readonly name: string;
  readonly message: DecodedMessage;
  /** Our bytes for the case; by default serialiseDecoded(message). */
  readonly bytes: Uint8Array;
  /** False where the Python serialiser cannot produce the message (f142 with an empty string array). */
  readonly pythonCanProduce: boolean;
}

const T = 1585332414000000000n;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Limits and special values of each numeric type. */
const EXTREMES: { readonly [T in NumericType]: readonly (number | bigint)[] } = {
  int8: [-128, 127, 0, -1],
  uint8: [0, 255, 1],
  int16: [-32768, 32767, 0, -2],
  uint16: [0, 65535, 3],
  int32: [-(2 ** 31), 2 ** 31 - 1, 0, -4],
  uint32: [0, 2 ** 32 - 1, 5],
  int64: [INT64_MIN, INT64_MAX, 0n, -6n],
  uint64: [0n, UINT64_MAX, 2n ** 63n],
  float32: [
    Math.fround(3.4028234663852886e38),
    -Math.fround(1.17549435e-38),
    2 ** -149,
    0,
    -0,
    1.5,
    NaN,
    Infinity,
    -Infinity,
  ],
  float64: [Number.MAX_VALUE, -Number.MIN_VALUE, Number.EPSILON, 0, -0, -1.234, NaN, Infinity, -Infinity],
};

const NAMES = ['SIMPLE:DOUBLE', 'Température:Ω:µA ✓ 🙂', `LONG:${'X'.repeat(1995)}`];

function typedArray(type: NumericType, elements: readonly (number | bigint)[]): NumericArray {
  const array = new TYPED_ARRAY[type](elements.length);
  elements.forEach((element, i) => ((array as unknown as (number | bigint)[])[i] = element));
  return array;
}

function scalar(type: NumericType, value: number | bigint): NumericScalarValue {
  return { kind: 'scalar', type, value } as NumericScalarValue;
}

/** Scalars and arrays of every numeric type: each extreme as a scalar; arrays empty, of one, of all extremes. */
function numericValues(keepNegativeZero: boolean): F142Value[] {
  return NUMERIC_TYPES.flatMap((type) => {
    const scalars = EXTREMES[type]
      .filter((value) => keepNegativeZero || !Object.is(value, -0))
      .map((value) => scalar(type, value));
    const arrays = [[], [EXTREMES[type][1] ?? 0], EXTREMES[type]].map(
      (elements) => ({ kind: 'array', type, value: typedArray(type, elements) }) as F142Value,
    );
    return [...scalars, ...arrays];
  });
}

function plain(message: DecodedMessage, name: string): CrossCheckCase {
  return { name, message, bytes: serialiseDecoded(message), pythonCanProduce: true };
}

function f144Cases(): CrossCheckCase[] {
  // f144 omits zero scalars, so -0 reads back as +0 (in Python too): covered by the arrays instead.
  const values = numericValues(false).map((value, i) =>
    plain(
      {
        schema: 'f144',
        message: { sourceName: NAMES[i % NAMES.length] ?? '', timestampNs: T, value: value as F144Value },
      },
      `f144 ${describe(value)}`,
    ),
  );
  const timestamps = [0n, -1n, INT64_MAX, INT64_MIN].map((timestampNs) =>
    plain(
      { schema: 'f144', message: { sourceName: 'pv', timestampNs, value: scalar('float64', 1) } },
      `f144 timestamp ${timestampNs}`,
    ),
  );
  return [...values, ...timestamps];
}

function f142Cases(): CrossCheckCase[] {
  const alarms = [
    [22, 4],
    [0, 2],
    [3, 1],
    [4, 0],
    [17, 3],
    [21, 4],
  ] as const;
  const strings: F142Value[] = [
    { kind: 'string', value: 'hello' },
    { kind: 'string', value: '' },
    { kind: 'string', value: 'Grüße, 世界 🙂' },
    { kind: 'string', value: 'y'.repeat(3000) },
    { kind: 'stringArray', value: ['a', 'bc', 'def'] },
    { kind: 'stringArray', value: ['ü', '', '🙂 ok', 'z'.repeat(500)] },
  ];
  const cases = [...numericValues(true), ...strings].map((value, i) => {
    const [alarmStatus, alarmSeverity] = alarms[i % alarms.length] ?? [22, 4];
    const sourceName = NAMES[i % NAMES.length] ?? '';
    return plain(
      { schema: 'f142', message: { sourceName, timestampNs: T, value, alarmStatus, alarmSeverity } },
      `f142 ${describe(value)}`,
    );
  });
  const emptyStrings: DecodedMessage = {
    schema: 'f142',
    message: {
      sourceName: 'pv:s',
      timestampNs: UINT64_MAX,
      value: { kind: 'stringArray', value: [] },
      alarmStatus: 0,
      alarmSeverity: 2,
    },
  };
  return [...cases, { ...plain(emptyStrings, 'f142 empty string array'), pythonCanProduce: false }];
}

function describe(value: F142Value): string {
  switch (value.kind) {
    case 'scalar':
      return `${value.type} ${String(value.value)}`;
    case 'array':
      return `${value.type}[${value.value.length}]`;
    case 'string':
      return `string(${value.value.length})`;
    case 'stringArray':
      return `string[${value.value.length}]`;
  }
}

function alarmCases(): CrossCheckCase[] {
  const messages = ['', 'HIHI', 'Überlast ⚠ 🚨', 'm'.repeat(1000)];
  const timestamps = [0n, T, -1n, INT64_MAX];
  return [0, 1, 2, 3].flatMap((severity) =>
    messages.map((message, i) =>
      plain(
        {
          schema: 'al00',
          message: {
            sourceName: NAMES[i % NAMES.length] ?? '',
            timestampNs: timestamps[i] ?? T,
            severity,
            message,
          },
        },
        `al00 severity ${severity} message ${i}`,
      ),
    ),
  );
}

function connectionCases(): CrossCheckCase[] {
  const services = [undefined, 'svc', '', 'dienst-ß'];
  const ep01 = [0, 1, 2, 3, 4, 5, 6, 7].map((status, i) => {
    const serviceId = services[i % services.length];
    const timestampNs = [T, 0n, -5n, INT64_MAX][i % 4] ?? T;
    return plain(
      {
        schema: 'ep01',
        message: {
          sourceName: NAMES[i % NAMES.length] ?? '',
          timestampNs,
          status,
          ...(serviceId === undefined ? {} : { serviceId }),
        },
      },
      `ep01 status ${status}`,
    );
  });
  const ep00 = [0, 1, 2, 3, 4].map((type, i) => {
    const serviceId = services[i % services.length];
    const timestampNs = [T, 0n, UINT64_MAX][i % 3] ?? T;
    return plain(
      {
        schema: 'ep00',
        message: {
          sourceName: NAMES[i % NAMES.length] ?? '',
          timestampNs,
          type,
          ...(serviceId === undefined ? {} : { serviceId }),
        },
      },
      `ep00 type ${type}`,
    );
  });
  return [...ep01, ...ep00];
}

function tdctCases(): CrossCheckCase[] {
  const vectors = [[], [T], [0n, 1n, T, 2n ** 63n, UINT64_MAX]];
  const counters = [undefined, 0n, UINT64_MAX];
  return vectors.flatMap((timestamps, i) =>
    counters.map((sequenceCounter) =>
      plain(
        {
          schema: 'tdct',
          message: {
            sourceName: NAMES[i] ?? '',
            timestampsNs: BigUint64Array.from(timestamps),
            ...(sequenceCounter === undefined ? {} : { sequenceCounter }),
          },
        },
        `tdct ${timestamps.length} timestamps counter ${String(sequenceCounter)}`,
      ),
    ),
  );
}

function sampleCases(): CrossCheckCase[] {
  const se00 = NUMERIC_TYPES.flatMap((type, i) =>
    [[], EXTREMES[type]].map((elements, j) =>
      plain(
        {
          schema: 'se00',
          message: {
            sourceName: NAMES[i % NAMES.length] ?? '',
            channel: j === 0 ? -1 : 7,
            packetTimestampNs: j === 0 ? INT64_MIN : T,
            timeDeltaNs: j === 0 ? 0.5 : NaN,
            timestampLocation: i % 4,
            values: typedArray(type, elements),
            ...(j === 0 ? {} : { timestampsNs: BigInt64Array.from(elements, (_, k) => T + BigInt(k) * 10n) }),
            messageCounter: j === 0 ? INT64_MAX : 3n,
          },
        },
        `se00 ${type}[${elements.length}]`,
      ),
    ),
  );
  const senv = NUMERIC_TYPES.filter((type) => !type.startsWith('float')).flatMap((type, i) =>
    [[], EXTREMES[type]].map((elements, j) =>
      plain(
        {
          schema: 'senv',
          message: {
            sourceName: NAMES[i % NAMES.length] ?? '',
            channel: j === 0 ? -1 : 0,
            // Whole seconds: the reference makes senv packet times through a float datetime.
            packetTimestampNs: j === 0 ? 0n : T,
            timeDeltaNs: 10,
            timestampLocation: 2,
            values: typedArray(type, elements) as Exclude<NumericArray, Float32Array | Float64Array>,
            ...(j === 0
              ? {}
              : {
                  timestampsNs: BigUint64Array.from(elements, (_, k) =>
                    k === 0 ? UINT64_MAX : T + BigInt(k),
                  ),
                }),
            messageCounter: j === 0 ? 0n : UINT64_MAX,
          },
        },
        `senv ${type}[${elements.length}]`,
      ),
    ),
  );
  return [...se00, ...senv];
}

function statusAndConfigCases(): CrossCheckCase[] {
  const x5f2 = [
    ['Forwarder', '2.1.0', 'fwd-1', 'host', 1234, 4000, '{"streams": []}'],
    [
      'Weiterleiter ✓',
      '',
      '',
      'höst',
      2 ** 32 - 1,
      0,
      `{"streams": [${'{"channel_name": "x"}, '.repeat(50)}{}]}`,
    ],
  ] as const;
  const x5f2Cases = x5f2.map(
    ([softwareName, softwareVersion, serviceId, hostName, processId, updateIntervalMs, statusJson], i) =>
      plain(
        {
          schema: 'x5f2',
          message: {
            softwareName,
            softwareVersion,
            serviceId,
            hostName,
            processId,
            updateIntervalMs,
            statusJson,
          },
        },
        `x5f2 ${i}`,
      ),
  );
  const streams = [
    { channel: 'SIMPLE:DOUBLE', schema: 'f144', topic: 'data', protocol: 0, periodic: 0 },
    { channel: 'Température ✓', schema: 'tdct', topic: 'données', protocol: 1, periodic: 1 },
    { channel: NAMES[2] ?? '', schema: 'nttable_se00', topic: 't', protocol: 2, periodic: -1 },
    { channel: 'PV:*', schema: '', topic: '', protocol: 1, periodic: 2 ** 31 - 1 },
  ];
  const configs = [
    { configChange: 0, streams },
    { configChange: 1, streams: streams.slice(3) },
    { configChange: 2, streams: [] },
    { configChange: 3, streams: streams.slice(0, 2) },
  ];
  const fc00 = configs.map((message) =>
    plain({ schema: 'fc00', message }, `fc00 change ${message.configChange} with ${message.streams.length}`),
  );
  const rf5k = configs
    .filter((config) => config.configChange !== 3)
    .map((config) => {
      const message = {
        configChange: config.configChange,
        streams: config.streams.map(({ periodic: _, ...stream }) => stream),
      };
      return plain(
        { schema: 'rf5k', message },
        `rf5k change ${message.configChange} with ${message.streams.length}`,
      );
    });
  return [...x5f2Cases, ...fc00, ...rf5k];
}

/** Messages made by the per-PV serialisers the forwarder uses, with the reference's value mapping applied. */
function forwarderCases(): CrossCheckCase[] {
  const viaSerialiser = (name: string, message: DecodedMessage, bytes: Uint8Array | null): CrossCheckCase => {
    if (bytes === null) throw new Error(`${name} produced nothing`);
    return { name, message, bytes, pythonCanProduce: true };
  };
  const f144 = (name: string, value: NumericScalarValue, bytes: Uint8Array): CrossCheckCase =>
    viaSerialiser(name, { schema: 'f144', message: { sourceName: 'pv:e', timestampNs: T, value } }, bytes);
  const table = (type: NumericType, values: readonly (number | bigint)[]): TableValue => ({
    kind: 'table',
    columns: new Map<string, TableColumn>([
      ['value', { kind: 'array', type, value: typedArray(type, values) } as TableColumn],
      ['timestamp', { kind: 'array', type: 'uint64', value: BigUint64Array.of(T, T + 10n, T + 20n) }],
    ]),
  });
  return [
    f144(
      'f144 CA enum as UShort',
      scalar('uint16', 2),
      new F144Serialiser('pv:e', 'ca').serialise({ kind: 'enum', index: 2 }, T),
    ),
    f144(
      'f144 PVA enum as Long',
      scalar('int64', 2n),
      new F144Serialiser('pv:e', 'pva').serialise({ kind: 'enum', index: 2 }, T),
    ),
    f144(
      'f144 1-element array as scalar',
      scalar('int32', -7),
      new F144Serialiser('pv:e', 'ca').serialise(
        { kind: 'array', type: 'int32', value: Int32Array.of(-7) },
        T,
      ),
    ),
    viaSerialiser(
      'f142 PVA bare alarm message HIHI',
      {
        schema: 'f142',
        message: {
          sourceName: 'pv:x',
          timestampNs: T,
          value: scalar('float64', 21),
          alarmStatus: 3,
          alarmSeverity: 1,
        },
      },
      new F142Serialiser('pv:x', 'pva').serialise({
        value: { kind: 'scalar', type: 'float64', value: 21 },
        timestampNs: T,
        alarm: { severity: 2, status: 1, message: 'HIHI' },
      }),
    ),
    viaSerialiser(
      'al00 from the alarm serialiser',
      { schema: 'al00', message: { sourceName: 'pv:x', timestampNs: T, severity: 1, message: 'HIGH' } },
      new Al00Serialiser('pv:x').serialise(T, { severity: 1, message: 'HIGH' }),
    ),
    viaSerialiser(
      'ep01 from the connection serialiser',
      { schema: 'ep01', message: { sourceName: 'pv:x', timestampNs: T, status: 3 } },
      new Ep01Serialiser('pv:x').serialise(T, 'disconnected'),
    ),
    viaSerialiser(
      'tdct offsets from the origin',
      {
        schema: 'tdct',
        message: {
          sourceName: 'chopper',
          timestampsNs: BigUint64Array.of(T + 10n, T - 3n),
          sequenceCounter: 0n,
        },
      },
      new TdctSerialiser('chopper', 'ca').serialise(
        { kind: 'array', type: 'int32', value: Int32Array.of(10, -3) },
        T,
      ),
    ),
    viaSerialiser(
      'se00 from an NTTable',
      {
        schema: 'se00',
        message: {
          sourceName: 'pv:t',
          channel: 0,
          packetTimestampNs: T,
          timeDeltaNs: 10,
          timestampLocation: 2,
          values: Float32Array.of(1.5, -2, 3),
          timestampsNs: BigInt64Array.of(T, T + 10n, T + 20n),
          messageCounter: 0n,
        },
      },
      new Se00Serialiser('pv:t').serialise(table('float32', [1.5, -2, 3]))?.bytes ?? null,
    ),
    viaSerialiser(
      'senv from an NTTable with float values rounded',
      {
        schema: 'senv',
        message: {
          sourceName: 'pv:t',
          channel: 0,
          packetTimestampNs: T,
          timeDeltaNs: 10,
          timestampLocation: 2,
          values: BigInt64Array.of(2n, -2n, 4n),
          timestampsNs: BigUint64Array.of(T, T + 10n, T + 20n),
          messageCounter: 0n,
        },
      },
      new SenvSerialiser('pv:t').serialise(table('float64', [2.5, -1.6, 3.5]))?.bytes ?? null,
    ),
  ];
}

export function crossCheckCases(): CrossCheckCase[] {
  return [
    ...f144Cases(),
    ...f142Cases(),
    ...alarmCases(),
    ...connectionCases(),
    ...tdctCases(),
    ...sampleCases(),
    ...statusAndConfigCases(),
    ...forwarderCases(),
    ...imageCases(),
  ];
}

const numberOf = (value: number | bigint): string =>
  typeof value === 'bigint' || Number.isInteger(value) ? String(value) : pythonNumber('float64', value);

function pythonArray(array: NumericArray): { dtype: string; data: string[] } {
  const type = numericTypeOf(array);
  return {
    dtype: type,
    data: Array.from(array as ArrayLike<number | bigint>, (element) => pythonNumber(type, element)),
  };
}

/** The Python value a log value union member decodes to (f144 and f142 alike). */
function pythonLogValue(value: F142Value): unknown {
  switch (value.kind) {
    case 'scalar':
      return pythonNumber(value.type, value.value);
    case 'array':
      return pythonArray(value.value);
    case 'string':
      return value.value;
    case 'stringArray':
      // An empty list becomes numpy's default float64 array in the reference reader.
      return { dtype: value.value.length === 0 ? 'float64' : 'str', data: value.value };
  }
}

/** What reference.py reports for the reference deserialiser's output on a buffer holding `decoded`. */
export function pythonView(decoded: DecodedMessage): { decoded: unknown; tag?: number } {
  switch (decoded.schema) {
    case 'ad00':
    case 'da00':
      return imagePythonView(decoded.message);
    case 'f144': {
      const { sourceName, timestampNs, value } = decoded.message;
      return {
        decoded: {
          source_name: sourceName,
          value: pythonLogValue(value),
          timestamp_unix_ns: String(timestampNs),
        },
        tag: logValueTag(value),
      };
    }
    case 'f142': {
      const { sourceName, timestampNs, value, alarmStatus, alarmSeverity } = decoded.message;
      return {
        decoded: {
          value: pythonLogValue(value),
          source_name: sourceName,
          timestamp_unix_ns: String(timestampNs),
          alarm_status: String(alarmStatus),
          alarm_severity: String(alarmSeverity),
        },
        tag: logValueTag(value),
      };
    }
    case 'al00': {
      const { sourceName, timestampNs, severity, message } = decoded.message;
      return {
        decoded: {
          source: sourceName,
          timestamp_ns: String(timestampNs),
          severity: String(severity),
          message,
        },
      };
    }
    case 'ep01': {
      const { sourceName, timestampNs, status, serviceId } = decoded.message;
      return {
        decoded: {
          timestamp: String(timestampNs),
          status: String(status),
          source_name: sourceName,
          service_id: serviceId ?? '',
        },
      };
    }
    case 'ep00': {
      const { sourceName, timestampNs, type, serviceId } = decoded.message;
      return {
        decoded: {
          timestamp: String(timestampNs),
          type: String(type),
          source_name: sourceName,
          service_id: serviceId ?? '',
        },
      };
    }
    case 'tdct': {
      const { sourceName, timestampsNs, sequenceCounter } = decoded.message;
      return {
        decoded: {
          name: sourceName,
          timestamps: pythonArray(timestampsNs),
          sequence_counter: String(sequenceCounter ?? 0n),
        },
      };
    }
    case 'se00':
    case 'senv': {
      const m = decoded.message;
      const time =
        decoded.schema === 'se00'
          ? { timestamp_unix_ns: String(m.packetTimestampNs) }
          : { timestamp: { datetime_us: String(m.packetTimestampNs / 1000n) } };
      return {
        decoded: {
          name: m.sourceName,
          channel: String(m.channel),
          ...time,
          sample_ts_delta: pythonNumber('float64', m.timeDeltaNs),
          ts_location: String(m.timestampLocation),
          message_counter: String(m.messageCounter),
          values: pythonArray(m.values),
          value_ts: m.timestampsNs === undefined ? null : pythonArray(m.timestampsNs),
        },
        tag: SAMPLE_VALUE_TAG[numericTypeOf(m.values)],
      };
    }
    case 'x5f2': {
      const m = decoded.message;
      return {
        decoded: {
          software_name: m.softwareName,
          software_version: m.softwareVersion,
          service_id: m.serviceId,
          host_name: m.hostName,
          process_id: String(m.processId),
          update_interval: String(m.updateIntervalMs),
          status_json: m.statusJson,
        },
      };
    }
    case 'fc00':
    case 'rf5k': {
      const { configChange, streams } = decoded.message;
      return {
        decoded: {
          config_change: String(configChange),
          streams: streams.map((stream) => ({
            channel: stream.channel,
            schema: stream.schema,
            topic: stream.topic,
            protocol: String(stream.protocol),
            ...('periodic' in stream ? { periodic: String(stream.periodic) } : {}),
          })),
        },
      };
    }
  }
}

const num = (value: number | bigint) => ({ num: numberOf(value) });
const orNone = <T>(value: T | undefined, tag: (value: T) => unknown) =>
  value === undefined ? { none: true } : tag(value);

function pythonValueArgument(value: F142Value): unknown {
  switch (value.kind) {
    case 'scalar':
      return { np0: { dtype: value.type, value: pythonNumber(value.type, value.value) } };
    case 'array':
      return { np: pythonArray(value.value) };
    case 'string':
      return value.value;
    case 'stringArray':
      return { strs: value.value };
  }
}

/** The reference serialiser call that makes `decoded` (fc00/rf5k streams reversed: Python writes them backwards). */
export function pythonCall(decoded: DecodedMessage): { fn: string; args: unknown[] } {
  switch (decoded.schema) {
    case 'ad00':
    case 'da00':
      return imagePythonCall(decoded.message);
    case 'f144': {
      const m = decoded.message;
      return { fn: 'serialise_f144', args: [m.sourceName, pythonValueArgument(m.value), num(m.timestampNs)] };
    }
    case 'f142': {
      const m = decoded.message;
      const status = m.alarmStatus === 22 ? undefined : m.alarmStatus;
      const severity = m.alarmSeverity === 4 ? undefined : m.alarmSeverity;
      return {
        fn: 'serialise_f142',
        args: [
          pythonValueArgument(m.value),
          m.sourceName,
          num(m.timestampNs),
          orNone(status, num),
          orNone(severity, num),
        ],
      };
    }
    case 'al00': {
      const m = decoded.message;
      return {
        fn: 'serialise_al00',
        args: [m.sourceName, num(m.timestampNs), { al00_severity: m.severity }, m.message],
      };
    }
    case 'ep01': {
      const m = decoded.message;
      return {
        fn: 'serialise_ep01',
        args: [num(m.timestampNs), { ep01_status: m.status }, m.sourceName, orNone(m.serviceId, (id) => id)],
      };
    }
    case 'ep00': {
      const m = decoded.message;
      return {
        fn: 'serialise_ep00',
        args: [num(m.timestampNs), m.type, m.sourceName, orNone(m.serviceId, (id) => id)],
      };
    }
    case 'tdct': {
      const m = decoded.message;
      return {
        fn: 'serialise_tdct',
        args: [m.sourceName, { np: pythonArray(m.timestampsNs) }, orNone(m.sequenceCounter, num)],
      };
    }
    case 'se00':
    case 'senv': {
      const m = decoded.message;
      const packetTime =
        decoded.schema === 'se00' ? num(m.packetTimestampNs) : { datetime_ns: String(m.packetTimestampNs) };
      return {
        fn: `serialise_${decoded.schema}`,
        args: [
          m.sourceName,
          m.channel,
          packetTime,
          { num: pythonNumber('float64', m.timeDeltaNs) },
          num(m.messageCounter),
          { np: pythonArray(m.values) },
          m.timestampLocation,
          orNone(m.timestampsNs, (timestamps) => ({ np: pythonArray(timestamps) })),
        ],
      };
    }
    case 'x5f2': {
      const m = decoded.message;
      return {
        fn: 'serialise_x5f2',
        args: [
          m.softwareName,
          m.softwareVersion,
          m.serviceId,
          m.hostName,
          m.processId,
          m.updateIntervalMs,
          m.statusJson,
        ],
      };
    }
    case 'fc00':
    case 'rf5k': {
      const { configChange, streams } = decoded.message;
      const tag = `${decoded.schema}_stream`;
      const pythonStreams = [...streams].reverse().map((stream) => ({
        [tag]: [
          stream.channel,
          stream.schema,
          stream.topic,
          stream.protocol,
          ...('periodic' in stream ? [stream.periodic] : []),
        ],
      }));
      return { fn: `serialise_${decoded.schema}`, args: [configChange, pythonStreams] };
    }
  }
}
