/**
 * The output schemas a stream can name, one row each: the protocols it is available over, whether the stream
 * also sends al00 alarms, and what its main messages are. Config-topic validation, the stream pipeline and
 * forwarder-ctl read this table; a name in OUTPUT_SCHEMA_NAMES without a row here does not compile.
 */
import { EPICS_PROTOCOLS, type EpicsProtocol } from '../model/protocol.js';
import { isOutputSchema, OUTPUT_SCHEMA_NAMES, type OutputSchema, type StreamSpec } from '../model/stream.js';
import type { PvUpdate, PvValue } from '../model/update.js';
import { Ad00Serialiser } from './ad00.js';
import type { MessageBuffer } from './builder.js';
import { Da00Serialiser } from './da00.js';
import { UnsupportedValueError } from './errors.js';
import { F142Serialiser } from './f142.js';
import { F144Serialiser } from './f144.js';
import { Se00Serialiser } from './se00.js';
import { SenvSerialiser } from './senv.js';
import { TdctSerialiser } from './tdct.js';

export interface ValueMessage {
  /** Lives only until the next value message is built: keep keepable(payload) (builder.ts, MessageBuffer). */
  readonly payload: Uint8Array;
  readonly timestampNs: bigint;
}

/** Null when the update produces no message (an empty tdct array, an NTTable without rows). */
export type ValueSerialiser = (update: PvUpdate) => ValueMessage | null;

/** Makes the value serialiser of one stream. */
export type ValueSerialiserFactory = (stream: StreamSpec) => ValueSerialiser;

export interface OutputSchemaRow {
  /** The protocols whose streams may name it. */
  readonly protocols: readonly EpicsProtocol[];
  /** What the PV must serve, for schemas some protocols do not offer (the reason is given when refusing one). */
  readonly needs?: string;
  /** Whether the stream sends al00 alarm messages besides its main messages. */
  readonly alarms: boolean;
  /**
   * The main messages: values from a serialiser made for the stream; another copy of the stream's al00 or ep01
   * messages, as the reference sends for these names; or none besides al00 and ep01.
   */
  readonly main: ValueSerialiserFactory | 'al00' | 'ep01' | 'none';
}

/** Each update as one message (f144, ad00, da00), stamped with the update's time, built in the reused buffer. */
function stampedValues(
  Serialiser: new (
    sourceName: string,
    protocol: EpicsProtocol,
  ) => { serialise(value: PvValue, timestampNs: bigint, where: MessageBuffer): Uint8Array },
): ValueSerialiserFactory {
  return ({ pvName, protocol }) => {
    const serialiser = new Serialiser(pvName, protocol);
    return (update) => ({
      payload: serialiser.serialise(update.value, update.timestampNs, 'reused'),
      timestampNs: update.timestampNs,
    });
  };
}

const f142Values: ValueSerialiserFactory = ({ pvName, protocol }) => {
  const serialiser = new F142Serialiser(pvName, protocol);
  return (update) => ({ payload: serialiser.serialise(update), timestampNs: update.timestampNs });
};

const tdctValues: ValueSerialiserFactory = ({ pvName, protocol }) => {
  const serialiser = new TdctSerialiser(pvName, protocol);
  return (update) => {
    const payload = serialiser.serialise(update.value, update.timestampNs);
    return payload === null ? null : { payload, timestampNs: update.timestampNs };
  };
};

/** NTTable rows as se00 or senv messages, stamped with the first row's time. */
function tableValues(
  Serialiser: new (sourceName: string) => Se00Serialiser | SenvSerialiser,
): ValueSerialiserFactory {
  return ({ pvName, schema }) => {
    const serialiser = new Serialiser(pvName);
    return (update) => {
      if (update.value.kind !== 'table') {
        throw new UnsupportedValueError(
          `schema ${schema} needs an NTTable, got a ${update.value.kind} value`,
        );
      }
      const message = serialiser.serialise(update.value);
      return message === null ? null : { payload: message.bytes, timestampNs: message.timestampNs };
    };
  };
}

/**
 * NTTables and NTNDArrays exist over pvAccess only (Channel Access has neither tables nor an array's shape and
 * attributes); fake streams may name every schema.
 */
const STRUCTURED_PROTOCOLS: readonly EpicsProtocol[] = ['pva', 'fake'];
const TABLE = 'an NTTable, which only pvAccess serves';
const IMAGE = 'an NTNDArray (an areaDetector image, as NDPluginPva serves it), which only pvAccess serves';

export const OUTPUT_SCHEMAS: { readonly [S in OutputSchema]: OutputSchemaRow } = {
  f144: { protocols: EPICS_PROTOCOLS, alarms: true, main: stampedValues(F144Serialiser) },
  // f142 carries the alarm itself.
  f142: { protocols: EPICS_PROTOCOLS, alarms: false, main: f142Values },
  tdct: { protocols: EPICS_PROTOCOLS, alarms: true, main: tdctValues },
  al00: { protocols: EPICS_PROTOCOLS, alarms: true, main: 'al00' },
  ep01: { protocols: EPICS_PROTOCOLS, alarms: true, main: 'ep01' },
  no_op: { protocols: EPICS_PROTOCOLS, alarms: true, main: 'none' },
  nttable_se00: {
    protocols: STRUCTURED_PROTOCOLS,
    needs: TABLE,
    alarms: true,
    main: tableValues(Se00Serialiser),
  },
  nttable_senv: {
    protocols: STRUCTURED_PROTOCOLS,
    needs: TABLE,
    alarms: true,
    main: tableValues(SenvSerialiser),
  },
  ad00: { protocols: STRUCTURED_PROTOCOLS, needs: IMAGE, alarms: true, main: stampedValues(Ad00Serialiser) },
  da00: { protocols: STRUCTURED_PROTOCOLS, needs: IMAGE, alarms: true, main: stampedValues(Da00Serialiser) },
};

/** The output schemas a stream may name, per protocol. */
export const SCHEMAS_OF_PROTOCOL: { readonly [P in EpicsProtocol]: ReadonlySet<string> } = {
  ca: schemasOf('ca'),
  pva: schemasOf('pva'),
  fake: schemasOf('fake'),
};

function schemasOf(protocol: EpicsProtocol): ReadonlySet<string> {
  return new Set(OUTPUT_SCHEMA_NAMES.filter((name) => OUTPUT_SCHEMAS[name].protocols.includes(protocol)));
}

export function isSchemaOfProtocol(protocol: EpicsProtocol, name: string): name is OutputSchema {
  return SCHEMAS_OF_PROTOCOL[protocol].has(name);
}

/** Why a stream of `protocol` cannot name schema `name`. */
export function unavailableSchemaReason(protocol: EpicsProtocol, name: string): string {
  const needs = isOutputSchema(name) ? OUTPUT_SCHEMAS[name].needs : undefined;
  return `schema '${name}' is not available for protocol ${protocol}${needs === undefined ? '' : `: it needs ${needs}`}`;
}
