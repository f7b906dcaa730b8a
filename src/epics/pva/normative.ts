/**
 * Maps a monitored pvAccess structure onto the protocol-neutral update model
 * (docs/protocols/pvaccess.md, "Normative types"): NTScalar and
 * NTScalarArray of every scalar type, NTEnum, NTTable, NTNDArray, and a `value` held in a union or variant union.
 * Fields are found by name, so field order and extra or missing optional fields do not matter.
 *
 * What a type maps to is compiled once per layout (NormativeType) and shared by every monitor of that type; a
 * NormativeMapper holds one monitor's state. Per update it rebuilds only the parts whose fields changed in the
 * last delta (value, alarm, timestamp, display) and reuses the previous objects for the rest.
 */
import type { FieldDesc } from './introspection.js';
import type { ScalarType } from './protocol.js';
import { PvUnion, PvVariant, type PvData, type PvStructureData } from './values.js';
import { type StructureLayout, type StructureStore } from './structure.js';
import {
  type Alarm,
  type Display,
  type NdAttribute,
  type NumericArray,
  type NumericType,
  type PvUpdate,
  type PvValue,
  shareValue,
  type TableColumn,
  type TableValue,
} from '../../model/update.js';
import { lastMapping } from '../../util/last-mapping.js';

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

/**
 * An NDAttribute's value: numbers, arrays of numbers and strings as they are, a boolean as a uint8 0 or 1;
 * undefined for anything else (an empty variant, a structure, an array of strings), which is left out.
 */
function attributeValue(value: PvValue | undefined): NdAttribute['value'] | undefined {
  switch (value?.kind) {
    case 'scalar':
    case 'array':
    case 'string':
      return value;
    case 'boolean':
      return { kind: 'scalar', type: 'uint8', value: value.value ? 1 : 0 };
    default:
      return undefined;
  }
}

/** One element of an NTNDArray's `attribute` array (an NTAttribute), or undefined when it cannot be carried. */
function ndAttribute(element: PvStructureData | null): NdAttribute | undefined {
  const content = element?.['value'];
  if (!element || !(content instanceof PvVariant || content instanceof PvUnion)) return undefined;
  const value = attributeValue(plainValue(content.type, content.value));
  if (value === undefined) return undefined;
  return {
    name: stringField(element, 'name'),
    value,
    description: stringField(element, 'descriptor'),
    source: stringField(element, 'source'),
  };
}

/** A string field of a structure, '' when it is absent or not a string. */
function stringField(structure: PvStructureData, field: string): string {
  const data = structure[field];
  return typeof data === 'string' ? data : '';
}

/** The fields an NTNDArray's value is made of (its time, alarm and display are the update's own). */
const ND_ARRAY_FIELDS = [
  'value',
  'codec',
  'compressedSize',
  'uncompressedSize',
  'dimension',
  'uniqueId',
  'attribute',
];

/** Alarms and displays are immutable and few: channels share them (shareValue). */
const sharedAlarms = new Map<string, Alarm>();
const sharedDisplays = new Map<string, Display>();

/** Compiled types, one per layout: thousands of monitors of one record type share it. */
const compiledTypes = new WeakMap<StructureLayout, NormativeType>();

/** Where a type keeps what the update model needs, and how its value is built. */
class NormativeType {
  /** Why this type cannot be mapped (undefined when it can). */
  readonly unsupported: string | undefined;
  readonly buildValue: ValueBuilder | undefined;
  readonly valueRange: NodeRange;
  readonly alarmRange: NodeRange;
  private readonly severity: number;
  private readonly status: number;
  private readonly message: number;
  readonly timeRange: NodeRange;
  readonly seconds: number;
  readonly nanoseconds: number;
  /** An NTNDArray's dataTimeStamp, the update's time when it has no timeStamp (or a zero one). */
  readonly dataTimeRange: NodeRange;
  readonly dataSeconds: number;
  readonly dataNanoseconds: number;
  readonly displayRange: NodeRange;
  private readonly units: number;
  private readonly precision: number;

  static of(layout: StructureLayout): NormativeType {
    let type = compiledTypes.get(layout);
    if (!type) {
      type = new NormativeType(layout);
      compiledTypes.set(layout, type);
    }
    return type;
  }

  private constructor(private readonly layout: StructureLayout) {
    this.valueRange = this.range('value');
    this.alarmRange = this.range('alarm');
    this.severity = layout.indexOf('alarm.severity');
    this.status = layout.indexOf('alarm.status');
    this.message = layout.indexOf('alarm.message');
    this.timeRange = this.range('timeStamp');
    this.seconds = layout.indexOf('timeStamp.secondsPastEpoch');
    this.nanoseconds = layout.indexOf('timeStamp.nanoseconds');
    this.dataTimeRange = this.range('dataTimeStamp');
    this.dataSeconds = layout.indexOf('dataTimeStamp.secondsPastEpoch');
    this.dataNanoseconds = layout.indexOf('dataTimeStamp.nanoseconds');
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
      if (this.isNdArray()) this.valueRange = this.coveringRange(ND_ARRAY_FIELDS);
    }
  }

  /** The smallest range holding every one of the fields that are present. */
  private coveringRange(paths: readonly string[]): NodeRange {
    const ranges = paths.map((path) => this.range(path)).filter((range) => range.to > range.from);
    return {
      from: Math.min(...ranges.map((range) => range.from)),
      to: Math.max(...ranges.map((range) => range.to)),
    };
  }

  /** An NTNDArray: a value union beside an array of dimension structures. */
  private isNdArray(): boolean {
    const value = this.layout.indexOf('value');
    const dimension = this.layout.indexOf('dimension');
    if (value < 0 || dimension < 0) return false;
    return (
      this.layout.node(value).type.kind === 'union' &&
      this.layout.node(dimension).type.kind === 'structureArray'
    );
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
        if (this.isNdArray()) return this.compileNdArray(index);
        // The member is chosen per update, so it is mapped per update.
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

  /**
   * An NTNDArray: the selected member of its value union (the elements, untouched: values.ts leaves an image's
   * elements where they were received), its dimension sizes, unique id, codec and attributes.
   */
  private compileNdArray(valueIndex: number): ValueBuilder {
    const dimension = this.layout.indexOf('dimension');
    const uniqueId = this.layout.indexOf('uniqueId');
    const codec = this.layout.indexOf('codec.name');
    const attribute = this.layout.indexOf('attribute');
    // The decoder hands on the very same dimension and attribute arrays while their bytes repeat (structure.ts),
    // as from frame to frame they mostly do: their mapping is kept for as long (values are never changed).
    const dimensionsOf = lastMapping((raw: readonly (PvStructureData | null)[]) =>
      raw.map((element) => Number(element?.['size'] ?? 0)),
    );
    const attributesOf = lastMapping((raw: readonly (PvStructureData | null)[]) =>
      raw.map(ndAttribute).filter((found) => found !== undefined),
    );
    return (store) => {
      const content = store.values[valueIndex] as PvUnion;
      const member = content.type;
      if (member?.kind !== 'scalarArray' || member.type === 'string' || content.value === null)
        return undefined;
      const data =
        member.type === 'boolean'
          ? Uint8Array.from(content.value as readonly boolean[], Number)
          : (content.value as NumericArray);
      const dimensions = dimensionsOf(store.values[dimension] as readonly (PvStructureData | null)[]);
      const attributes =
        attribute < 0 ? [] : attributesOf(store.values[attribute] as readonly (PvStructureData | null)[]);
      return {
        kind: 'ndarray',
        type: member.type,
        data,
        dimensions,
        uniqueId: uniqueId < 0 ? 0 : Number(store.values[uniqueId]),
        codec: codec < 0 ? '' : String(store.values[codec]),
        attributes,
      };
    };
  }

  readAlarm(store: StructureStore): Alarm {
    if (this.alarmRange.to === 0) return NO_ALARM;
    const severity = this.severity < 0 ? 0 : Number(store.values[this.severity]);
    const status = this.status < 0 ? 0 : Number(store.values[this.status]);
    const message = this.message < 0 ? '' : String(store.values[this.message]);
    const key = `${severity}:${status}:${message}`;
    return sharedAlarms.get(key) ?? shareValue(sharedAlarms, key, { severity, status, message });
  }

  readDisplay(store: StructureStore): Display | undefined {
    if (this.displayRange.to === 0) return undefined;
    if (this.units < 0 && this.precision < 0) return undefined;
    const units = this.units < 0 ? undefined : String(store.values[this.units]);
    const precision = this.precision < 0 ? undefined : Number(store.values[this.precision]);
    // "=" marks units present, so absent units and empty units are different displays.
    const key = `${precision ?? ''}:${units === undefined ? '' : `=${units}`}`;
    const shared = sharedDisplays.get(key);
    if (shared !== undefined) return shared;
    const display: { units?: string; precision?: number } = {};
    if (units !== undefined) display.units = units;
    if (precision !== undefined) display.precision = precision;
    return shareValue(sharedDisplays, key, display);
  }
}

/** One monitor's mapping: its type's compiled form and the parts of the last update it can reuse. */
export class NormativeMapper {
  private readonly type: NormativeType;
  private lastSequence = -1;
  private value: PvValue | undefined;
  private alarm: Alarm = NO_ALARM;
  private timestampNs = 0n;
  private lastSeconds: PvData | undefined;
  private lastSecondsNs = 0n;
  private display: Display | undefined;

  constructor(layout: StructureLayout) {
    this.type = NormativeType.of(layout);
  }

  /** Why this type cannot be mapped (undefined when it can). */
  get unsupported(): string | undefined {
    return this.type.unsupported;
  }

  /**
   * The update for the store's current merged value, or undefined when the value cannot be expressed in the
   * update model (see `unsupported`).
   */
  map(store: StructureStore): PvUpdate | undefined {
    const type = this.type;
    const build = type.buildValue;
    if (!build) return undefined;
    // After a skipped delta the per-field change marks no longer cover everything: rebuild it all.
    const all = store.sequence !== this.lastSequence + 1 || this.value === undefined;
    this.lastSequence = store.sequence;
    if (all || changed(store, type.valueRange)) {
      // Undefined (an empty union) forces a full rebuild next time, so no stale value is reused.
      this.value = build(store);
      if (!this.value) return undefined;
    }
    if (all || changed(store, type.alarmRange)) this.alarm = type.readAlarm(store);
    if (all || changed(store, type.timeRange) || changed(store, type.dataTimeRange)) {
      this.timestampNs = this.readTimestamp(store);
    }
    if (all || changed(store, type.displayRange)) this.display = type.readDisplay(store);
    const value = this.value as PvValue;
    return this.display
      ? { value, timestampNs: this.timestampNs, alarm: this.alarm, display: this.display }
      : { value, timestampNs: this.timestampNs, alarm: this.alarm };
  }

  /**
   * `timeStamp`, or an NTNDArray's `dataTimeStamp` where that is absent or zero. NDPluginPva sets timeStamp to the
   * array's EPICS time, which is what areaDetector's own Kafka plugin sends; drivers fill dataTimeStamp as they
   * please (often in seconds since 1990).
   */
  private readTimestamp(store: StructureStore): bigint {
    const { seconds: secondsIndex, nanoseconds, dataSeconds, dataNanoseconds } = this.type;
    const time = secondsIndex < 0 ? 0n : this.readTimeStamp(store, secondsIndex, nanoseconds);
    if (time !== 0n || dataSeconds < 0) return time;
    const dataTime = wholeNumber(store.values[dataSeconds]) * NS_PER_SECOND;
    return dataNanoseconds < 0 ? dataTime : dataTime + wholeNumber(store.values[dataNanoseconds]);
  }

  private readTimeStamp(store: StructureStore, secondsIndex: number, nanoseconds: number): bigint {
    const seconds = store.values[secondsIndex];
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastSecondsNs = wholeNumber(seconds) * NS_PER_SECOND;
    }
    return nanoseconds < 0 ? this.lastSecondsNs : this.lastSecondsNs + wholeNumber(store.values[nanoseconds]);
  }
}

/**
 * A timestamp field as a whole number, whatever type the server gave it: a fraction is cut off, and a value that
 * is no finite number (NaN, a string, an array) counts as 0, which the timestamp filter then refuses as too old.
 */
function wholeNumber(value: PvData | undefined): bigint {
  if (typeof value === 'bigint') return value;
  return typeof value === 'number' && Number.isFinite(value) ? BigInt(Math.trunc(value)) : 0n;
}

function changed(store: StructureStore, range: NodeRange): boolean {
  return range.to > range.from && store.changedInRange(range.from, range.to);
}
