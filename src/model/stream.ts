/** A stream: one PV forwarded over one protocol to one topic with one schema. */
import { type EpicsProtocol, PROTOCOL_LABEL } from './protocol.js';

/** Main schemas a stream may name, per protocol (reference-forwarder.md §8.1). */
export const SCHEMAS_OF_PROTOCOL: { readonly [P in EpicsProtocol]: ReadonlySet<string> } = {
  ca: new Set(['f144', 'f142', 'tdct', 'al00', 'ep01', 'no_op']),
  pva: new Set(['f144', 'f142', 'tdct', 'al00', 'ep01', 'no_op', 'nttable_se00', 'nttable_senv']),
  fake: new Set(['f144', 'f142', 'tdct', 'al00', 'ep01', 'no_op', 'nttable_se00', 'nttable_senv']),
};

export interface StreamSpec {
  readonly pvName: string;
  readonly protocol: EpicsProtocol;
  readonly topic: string;
  readonly schema: string;
  /** Re-send the last messages every --pv-update-period. A property of the stream, not part of its identity. */
  readonly periodic: boolean;
}

/**
 * Identity of a stream: (PV name, protocol, topic, schema), decision h. Built by join, which makes one flat
 * string: a template literal makes a chain of six concatenation nodes, which the maps keyed by it keep alive
 * (~190 bytes per stream).
 */
export function streamKey(stream: Omit<StreamSpec, 'periodic'>): string {
  return [stream.protocol, stream.pvName, stream.topic, stream.schema].join('\u0000');
}

export function describeStream(stream: Omit<StreamSpec, 'periodic'>): string {
  return `name='${stream.pvName}', protocol=${PROTOCOL_LABEL[stream.protocol]}, topic='${stream.topic}', schema='${stream.schema}'`;
}
