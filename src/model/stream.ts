/** A stream: one PV forwarded over one protocol to one topic with one schema. */
import { type EpicsProtocol, PROTOCOL_LABEL } from './protocol.js';

/**
 * The output schemas a stream can name, in the order people are shown them. What each one sends and over which
 * protocols is its row in src/schemas/output-schemas.ts, which must have a row for every name here.
 */
export const OUTPUT_SCHEMA_NAMES = [
  'f144',
  'f142',
  'tdct',
  'al00',
  'ep01',
  'no_op',
  'nttable_se00',
  'nttable_senv',
  'ad00',
  'da00',
] as const;

export type OutputSchema = (typeof OUTPUT_SCHEMA_NAMES)[number];

export function isOutputSchema(name: string): name is OutputSchema {
  return (OUTPUT_SCHEMA_NAMES as readonly string[]).includes(name);
}

export interface StreamSpec {
  readonly pvName: string;
  readonly protocol: EpicsProtocol;
  readonly topic: string;
  readonly schema: OutputSchema;
  /** Re-send the last messages every --pv-update-period. A property of the stream, not part of its identity. */
  readonly periodic: boolean;
}

/**
 * Identity of a stream: (PV name, protocol, topic, schema); periodic is not part of it. Built by join, which makes
 * one flat string: a template literal makes a chain of six concatenation nodes, which the maps keyed by it keep
 * alive (~190 bytes per stream).
 */
export function streamKey(stream: Omit<StreamSpec, 'periodic'>): string {
  return [stream.protocol, stream.pvName, stream.topic, stream.schema].join('\u0000');
}

export function describeStream(stream: Omit<StreamSpec, 'periodic'>): string {
  return `name='${stream.pvName}', protocol=${PROTOCOL_LABEL[stream.protocol]}, topic='${stream.topic}', schema='${stream.schema}'`;
}
