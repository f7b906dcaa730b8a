/**
 * Maps a monitored pvAccess structure onto the protocol-neutral update model (spec §9): NTScalar and
 * NTScalarArray of every scalar type, NTEnum, NTTable, and a `value` held in a union or variant union.
 * Fields are found by name, so field order and extra or missing optional fields do not matter.
 *
 * A mapper is compiled once per monitored type. Per update it rebuilds only the parts whose fields changed in
 * the last delta (value, alarm, timestamp, display) and reuses the previous objects for the rest.
 */
import type { FieldDesc } from './introspection.js';
import type { ScalarType } from './protocol.js';
import { PvUnion, PvVariant, type PvData, type StructureLayout, type StructureStore } from './values.js';
import type { Alarm, Display, NumericType, PvUpdate, PvValue, TableColumn, TableValue } from '../update.js';

const NO_ALARM: Alarm = { severity: 0, status: 0, message: '' };
const NS_PER_SECOND = 1_000_000_000n;

/** A range of layout nodes [from, to); empty when the field is absent. */
interface NodeRange {
  readonly from: number;
  readonly to: number;
}

type ValueBuilder = (store: StructureStore) => PvValue | undefined;

function isNumeric(type: ScalarType): type is NumericType {
  return type !== 'string' && type !== 'boolean';
}

/** The update-model value of a scalar or scalar array of the given type, or undefined for other types. */
export function plainValue(type: FieldDesc | null, data: PvData | null): PvValue | undefined {
  if (!type || data === null) return undefined;
  if (type.kind === 'scalar') {
    if (type.type === 'string') return { kind: 'string', value: data as string };
    if (type.type === 'boolean') return { kind: 'boolean', value: data as boolean };
    return { kind: 'scalar', type: type.type, value: data } as PvValue;
  }
  if (type.kind === 'scalarArray') {
    if (type.type === 'string') return { kind: 'stringArray', value: data as readonly string[] };
    if (type.type === 'boolean') return { kind: 'booleanArray', value: data as readonly boolean[] };
    return { kind: 'array', type: type.type, value: data } as PvValue;
  }
  return undefined;
}

export class NormativeMapper {
  /** Why this type cannot be mapped (undefined when it can). */
  readonly unsupported: string | undefined;
  private readonly buildValue: ValueBuilder | undefined;
  private readonly valueRange: NodeRange;
  private readonly alarmRange: NodeRange;
  private readonly severity: number;
  private readonly status: number;
  private readonly message: number;
  private readonly timeRange: NodeRange;
  private readonly seconds: number;
  private readonly nanoseconds: number;
  private readonly displayRange: NodeRange;
  private readonly units: number;
  private readonly precision: number;

  private lastSequence = -1;
  private value: PvValue | undefined;
  private alarm: Alarm = NO_ALARM;
  private timestampNs = 0n;
  private lastSeconds: PvData | undefined;
  private lastSecondsNs = 0n;
  private display: Display | undefined;

  constructor(private readonly layout: StructureLayout) {
    this.valueRange = this.range('value');
    this.alarmRange = this.range('alarm');
    this.severity = layout.indexOf('alarm.severity');
    this.status = layout.indexOf('alarm.status');
    this.message = layout.indexOf('alarm.message');
    this.timeRange = this.range('timeStamp');
    this.seconds = layout.indexOf('timeStamp.secondsPastEpoch');
    this.nanoseconds = layout.indexOf('timeStamp.nanoseconds');
    this.displayRange = this.range('display');
    this.units = layout.indexOf('display.units');
    this.precision = layout.indexOf('display.precision');
    const compiled = this.compileValue();
    if (typeof compiled === 'string') {
      this.unsupported = compiled;
    } else {
      this.buildValue = compiled;
      // An NTTable's labels name its columns, so they belong to the value.
      const labels = layout.indexOf('labels');
      if (labels >= 0 && this.isTable()) {
        this.valueRange = {
          from: Math.min(labels, this.valueRange.from),
          to: Math.max(labels + 1, this.valueRange.to),
        };
      }
    }
  }

  /**
   * The update for the store's current merged value, or undefined when the value cannot be expressed in the
   * update model (see `unsupported`).
   */
  map(store: StructureStore): PvUpdate | undefined {
    const build = this.buildValue;
    if (!build) return undefined;
    // After a skipped delta the per-field change marks no longer cover everything: rebuild it all.
    const all = store.sequence !== this.lastSequence + 1 || this.value === undefined;
    this.lastSequence = store.sequence;
    if (all || changed(store, this.valueRange)) {
      // Undefined (an empty union) forces a full rebuild next time, so no stale value is reused.
      this.value = build(store);
      if (!this.value) return undefined;
    }
    if (all || changed(store, this.alarmRange)) this.alarm = this.readAlarm(store);
    if (all || changed(store, this.timeRange)) this.timestampNs = this.readTimestamp(store);
    if (all || changed(store, this.displayRange)) this.display = this.readDisplay(store);
    const value = this.value as PvValue;
    return this.display
      ? { value, timestampNs: this.timestampNs, alarm: this.alarm, display: this.display }
      : { value, timestampNs: this.timestampNs, alarm: this.alarm };
  }

  private range(path: string): NodeRange {
    const index = this.layout.indexOf(path);
    return index < 0 ? { from: 0, to: 0 } : { from: index, to: this.layout.node(index).end };
  }

  private isTable(): boolean {
    const labels = this.layout.indexOf('labels');
    const value = this.layout.indexOf('value');
    if (labels < 0 || value < 0) return false;
    const labelsType = this.layout.node(labels).type;
    const valueType = this.layout.node(value).type;
    return (
      labelsType.kind === 'scalarArray' &&
      labelsType.type === 'string' &&
      valueType.kind === 'structure' &&
      valueType.fields.every((member) => member.type.kind === 'scalarArray')
    );
  }

  private compileValue(): ValueBuilder | string {
    const index = this.layout.indexOf('value');
    if (index < 0) return 'the structure has no "value" field';
    const type = this.layout.node(index).type;
    switch (type.kind) {
      case 'scalar':
      case 'scalarArray':
        return (store) => plainValue(type, store.values[index] as PvData);
      case 'union':
      case 'any':
        // The member is chosen per update, so it is mapped per update (NTNDArray-style value unions).
        return (store) => {
          const content = store.values[index] as PvUnion | PvVariant;
          return plainValue(content.type, content.value);
        };
      case 'structure':
        return (
          this.compileEnum(index) ??
          this.compileTable(index) ??
          `"value" is a structure (${type.id || 'no id'})`
        );
      default:
        return `"value" has the unsupported type ${type.kind}`;
    }
  }

  private compileEnum(valueIndex: number): ValueBuilder | undefined {
    const index = this.layout.indexOf('value.index');
    const choices = this.layout.indexOf('value.choices');
    if (index < 0 || choices < 0) return undefined;
    const indexType = this.layout.node(index).type;
    const choicesType = this.layout.node(choices).type;
    if (indexType.kind !== 'scalar' || !isNumeric(indexType.type)) return undefined;
    if (choicesType.kind !== 'scalarArray' || choicesType.type !== 'string') return undefined;
    if (this.layout.node(valueIndex).end - valueIndex !== 3) return undefined;
    return (store) => ({
      kind: 'enum',
      index: Number(store.values[index]),
      choices: store.values[choices] as readonly string[],
    });
  }

  private compileTable(valueIndex: number): ValueBuilder | undefined {
    if (!this.isTable()) return undefined;
    const labels = this.layout.indexOf('labels');
    const columns = this.layout.children(valueIndex);
    return (store): TableValue => {
      const names = store.values[labels] as readonly string[];
      const out = new Map<string, TableColumn>();
      columns.forEach(({ member, index }, i) => {
        const column = plainValue(member.type, store.values[index] as PvData) as TableColumn;
        out.set(names[i] ?? member.name, column);
      });
      return { kind: 'table', columns: out };
    };
  }

  private readAlarm(store: StructureStore): Alarm {
    if (this.alarmRange.to === 0) return NO_ALARM;
    return {
      severity: this.severity < 0 ? 0 : Number(store.values[this.severity]),
      status: this.status < 0 ? 0 : Number(store.values[this.status]),
      message: this.message < 0 ? '' : String(store.values[this.message]),
    };
  }

  private readTimestamp(store: StructureStore): bigint {
    if (this.seconds < 0) return 0n;
    const seconds = store.values[this.seconds];
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastSecondsNs = BigInt(seconds as bigint | number) * NS_PER_SECOND;
    }
    return this.nanoseconds < 0
      ? this.lastSecondsNs
      : this.lastSecondsNs + BigInt(store.values[this.nanoseconds] as number);
  }

  private readDisplay(store: StructureStore): Display | undefined {
    if (this.displayRange.to === 0) return undefined;
    if (this.units < 0 && this.precision < 0) return undefined;
    const display: { units?: string; precision?: number } = {};
    if (this.units >= 0) display.units = String(store.values[this.units]);
    if (this.precision >= 0) display.precision = Number(store.values[this.precision]);
    return display;
  }
}

function changed(store: StructureStore, range: NodeRange): boolean {
  return range.to > range.from && store.changedInRange(range.from, range.to);
}
