/** Normative-type descriptions the PVA tests and fake servers share. */
import {
  type FieldDesc,
  scalarDesc,
  structure,
  type StructureDesc,
} from '../../src/epics/pva/introspection.js';

export const alarmT = structure('alarm_t', {
  severity: scalarDesc.int32,
  status: scalarDesc.int32,
  message: scalarDesc.string,
});

export const timeT = structure('time_t', {
  secondsPastEpoch: scalarDesc.int64,
  nanoseconds: scalarDesc.int32,
  userTag: scalarDesc.int32,
});

/** NTScalar (a scalar value) or NTScalarArray (an array value) with alarm and timeStamp, then `extra`. */
export function ntType(value: FieldDesc, extra: Record<string, FieldDesc> = {}): StructureDesc {
  const id = value.kind === 'scalar' ? 'epics:nt/NTScalar:1.0' : 'epics:nt/NTScalarArray:1.0';
  return structure(id, { value, alarm: alarmT, timeStamp: timeT, ...extra });
}
