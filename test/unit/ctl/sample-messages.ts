/** One message of every schema `tail` decodes, with the JSON it must print for it. */
import {
  Al00Severity,
  ConnectionInfo,
  Da00Dtype,
  DType,
  F142AlarmSeverity,
  F142AlarmStatus,
  Location,
  Protocol,
  Rf5kUpdateType,
  serialiseAd00,
  serialiseAl00,
  serialiseDa00,
  serialiseEp01,
  serialiseF142,
  serialiseF144,
  serialiseFc00,
  serialiseRf5k,
  serialiseSe00,
  serialiseSenv,
  serialiseTdct,
  serialiseX5f2,
  UpdateType,
} from '../../../src/schemas/index.js';

export interface SampleMessage {
  readonly schema: string;
  /** The PV (or service id) --source matches. */
  readonly source: string;
  readonly bytes: Uint8Array;
  readonly json: unknown;
}

const ns = 1_700_000_000_123_456_789n;
const nsText = '1700000000123456789';

export const sampleMessages: readonly SampleMessage[] = [
  {
    schema: 'f144',
    source: 'SIM:DOUBLE',
    bytes: serialiseF144({
      sourceName: 'SIM:DOUBLE',
      timestampNs: ns,
      value: { kind: 'scalar', type: 'float64', value: NaN },
    }),
    json: {
      sourceName: 'SIM:DOUBLE',
      timestampNs: nsText,
      value: { kind: 'scalar', type: 'float64', value: 'NaN' },
    },
  },
  {
    schema: 'f144',
    source: 'SIM:LONGS',
    bytes: serialiseF144({
      sourceName: 'SIM:LONGS',
      timestampNs: ns,
      value: { kind: 'array', type: 'int64', value: BigInt64Array.of(-(2n ** 63n), 2n ** 62n) },
    }),
    json: {
      sourceName: 'SIM:LONGS',
      timestampNs: nsText,
      value: { kind: 'array', type: 'int64', value: ['-9223372036854775808', '4611686018427387904'] },
    },
  },
  {
    schema: 'f142',
    source: 'SIM:STRING',
    bytes: serialiseF142({
      sourceName: 'SIM:STRING',
      timestampNs: ns,
      value: { kind: 'string', value: 'hello' },
      alarmStatus: F142AlarmStatus.HIHI,
      alarmSeverity: F142AlarmSeverity.MAJOR,
    }),
    json: {
      sourceName: 'SIM:STRING',
      timestampNs: nsText,
      value: { kind: 'string', value: 'hello' },
      alarmStatus: 'HIHI',
      alarmSeverity: 'MAJOR',
    },
  },
  {
    schema: 'al00',
    source: 'SIM:ALARM',
    bytes: serialiseAl00({
      sourceName: 'SIM:ALARM',
      timestampNs: ns,
      severity: Al00Severity.MINOR,
      message: 'HIGH',
    }),
    json: { sourceName: 'SIM:ALARM', timestampNs: nsText, severity: 'MINOR', message: 'HIGH' },
  },
  {
    schema: 'ep01',
    source: 'SIM:CONNECTION',
    bytes: serialiseEp01({
      sourceName: 'SIM:CONNECTION',
      timestampNs: ns,
      status: ConnectionInfo.DISCONNECTED,
    }),
    json: { sourceName: 'SIM:CONNECTION', timestampNs: nsText, status: 'DISCONNECTED' },
  },
  {
    schema: 'tdct',
    source: 'SIM:CHOPPER',
    bytes: serialiseTdct({
      sourceName: 'SIM:CHOPPER',
      timestampsNs: BigUint64Array.of(ns, ns + 1n),
      sequenceCounter: 7n,
    }),
    json: { sourceName: 'SIM:CHOPPER', timestampsNs: [nsText, '1700000000123456790'], sequenceCounter: '7' },
  },
  {
    schema: 'se00',
    source: 'SIM:TABLE',
    bytes: serialiseSe00({
      sourceName: 'SIM:TABLE',
      channel: 2,
      packetTimestampNs: ns,
      timeDeltaNs: 0.5,
      timestampLocation: Location.Middle,
      values: Float32Array.of(1.5, -Infinity),
      timestampsNs: BigInt64Array.of(ns),
      messageCounter: 3n,
    }),
    json: {
      sourceName: 'SIM:TABLE',
      channel: 2,
      packetTimestampNs: nsText,
      timeDeltaNs: 0.5,
      timestampLocation: 'Middle',
      values: [1.5, '-Infinity'],
      timestampsNs: [nsText],
      messageCounter: '3',
    },
  },
  {
    schema: 'senv',
    source: 'SIM:OLDTABLE',
    bytes: serialiseSenv({
      sourceName: 'SIM:OLDTABLE',
      channel: 1,
      packetTimestampNs: ns,
      timeDeltaNs: 0,
      timestampLocation: Location.End,
      values: Uint16Array.of(1, 65535),
      messageCounter: 0n,
    }),
    json: {
      sourceName: 'SIM:OLDTABLE',
      channel: 1,
      packetTimestampNs: nsText,
      timeDeltaNs: 0,
      timestampLocation: 'End',
      values: [1, 65535],
      messageCounter: '0',
    },
  },
  {
    schema: 'x5f2',
    source: 'forwarder-7',
    bytes: serialiseX5f2({
      softwareName: 'Forwarder',
      softwareVersion: '0.1.0',
      serviceId: 'forwarder-7',
      hostName: 'host-a',
      processId: 4242,
      updateIntervalMs: 4000,
      statusJson: '{"streams": []}',
    }),
    json: {
      softwareName: 'Forwarder',
      softwareVersion: '0.1.0',
      serviceId: 'forwarder-7',
      hostName: 'host-a',
      processId: 4242,
      updateIntervalMs: 4000,
      statusJson: '{"streams": []}',
    },
  },
  {
    schema: 'fc00',
    source: 'SIM:COMMANDED',
    bytes: serialiseFc00({
      configChange: UpdateType.REPLACE,
      streams: [
        { channel: 'SIM:COMMANDED', schema: 'f144', topic: 'motion', protocol: Protocol.FAKE, periodic: 1 },
      ],
    }),
    json: {
      configChange: 'REPLACE',
      streams: [{ channel: 'SIM:COMMANDED', schema: 'f144', topic: 'motion', protocol: 'FAKE', periodic: 1 }],
    },
  },
  {
    schema: 'rf5k',
    source: 'SIM:LEGACY',
    bytes: serialiseRf5k({
      configChange: Rf5kUpdateType.REMOVE,
      streams: [{ channel: 'SIM:LEGACY', schema: 'f142', topic: 'old', protocol: Protocol.CA }],
    }),
    json: {
      configChange: 'REMOVE',
      streams: [{ channel: 'SIM:LEGACY', schema: 'f142', topic: 'old', protocol: 'CA' }],
    },
  },
  {
    schema: 'ad00',
    source: 'CAM:image',
    bytes: serialiseAd00({
      sourceName: 'CAM:image',
      uniqueId: 9,
      timestampNs: 1700000000000000000n,
      dimensions: BigInt64Array.of(512n, 512n),
      dataType: DType.uint16,
      data: new Uint8Array(524288),
      attributes: [
        { name: 'Gain', description: '', source: 'G', dataType: DType.int8, data: Uint8Array.of(3) },
      ],
    }),
    json: {
      sourceName: 'CAM:image',
      uniqueId: 9,
      timestampNs: '1700000000000000000',
      dimensions: ['512', '512'],
      dataType: 'uint16',
      data: '524288 bytes',
      attributes: [{ name: 'Gain', description: '', source: 'G', dataType: 'int8', data: [3] }],
    },
  },
  {
    schema: 'da00',
    source: 'CAM:image',
    bytes: serialiseDa00({
      sourceName: 'CAM:image',
      timestampNs: 1700000000000000000n,
      variables: [
        {
          name: 'signal',
          dataType: Da00Dtype.uint8,
          axes: ['y', 'x'],
          shape: BigInt64Array.of(10n, 10n),
          data: new Uint8Array(100),
        },
        {
          name: 'unique_id',
          dataType: Da00Dtype.int32,
          axes: [],
          shape: BigInt64Array.of(1n),
          data: Uint8Array.of(9, 0, 0, 0),
        },
      ],
    }),
    json: {
      sourceName: 'CAM:image',
      timestampNs: '1700000000000000000',
      variables: [
        { name: 'signal', dataType: 'uint8', axes: ['y', 'x'], shape: ['10', '10'], data: '100 bytes' },
        { name: 'unique_id', dataType: 'int32', axes: [], shape: ['1'], data: [9, 0, 0, 0] },
      ],
    },
  },
];
