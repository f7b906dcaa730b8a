/**
 * A PV's value and alarm as short text for people (the status page): numbers with the PV's precision and units,
 * enums by their state name, long strings and arrays cut short with their length. Never used for forwarding.
 */
import { type Alarm, AlarmSeverity, type Display, type PvValue } from './update.js';

/** Longest text a value is shown as; arrays and strings are cut to fit, saying how long they are. */
export const VALUE_TEXT_LENGTH = 40;

/** EPICS alarm severity names, by severity. */
export const SEVERITY_NAMES: readonly string[] = Object.keys(AlarmSeverity);

/** `MAJOR` for severity 2; an out-of-range severity as its number. */
export function severityName(alarm: Alarm): string {
  return SEVERITY_NAMES[alarm.severity] ?? String(alarm.severity);
}

function numberText(value: number | bigint, display: Display | undefined): string {
  if (typeof value === 'bigint' || Number.isInteger(value)) return String(value);
  const precision = display?.precision;
  if (precision !== undefined && precision >= 0 && precision <= 17 && Math.abs(value) < 1e15)
    return value.toFixed(precision);
  return String(Number(value.toPrecision(6)));
}

/** The text, or as much as fits in `length` characters with an ellipsis. */
export function cut(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** At most this many elements of an array are turned into text: no more can be shown anyway. */
const MAX_ELEMENTS_READ = 64;

/** `[1, 2, 3]`, or as many elements as fit and `… (n)`, n being the array's length. */
export function listText(array: ArrayLike<number | bigint | boolean | string>, length: number): string {
  const elements: string[] = [];
  for (let i = 0; i < Math.min(array.length, MAX_ELEMENTS_READ); i++) elements.push(String(array[i]));
  const whole = `[${elements.join(', ')}]`;
  if (elements.length === array.length && whole.length <= length) return whole;
  const tail = `, … (${array.length})]`;
  let text = '[';
  for (const element of elements) {
    const next = text === '[' ? `[${element}` : `${text}, ${element}`;
    if (next.length + tail.length > length) break;
    text = next;
  }
  return text === '[' ? `[… (${array.length})]` : `${text}${tail}`;
}

/** The value as at most `length` characters (units appended for numbers, when the PV has them). */
export function valueText(value: PvValue, display?: Display, length = VALUE_TEXT_LENGTH): string {
  const units = display?.units ? ` ${display.units}` : '';
  switch (value.kind) {
    case 'scalar':
      return cut(`${numberText(value.value, display)}${units}`, length);
    case 'string':
      return cut(JSON.stringify(value.value), length);
    case 'boolean':
      return String(value.value);
    case 'enum':
      return cut(value.choices?.[value.index] ?? String(value.index), length);
    case 'array':
    case 'stringArray':
    case 'booleanArray':
      return listText(value.value, length);
    case 'ndarray': {
      // NTNDArray order is x first; people read an image as rows × columns.
      const shape = [...value.dimensions].reverse().join('×');
      return cut(
        `image ${shape} ${value.type}${value.codec ? ` (${value.codec})` : ''}, frame ${value.uniqueId}`,
        length,
      );
    }
    case 'table': {
      const columns = [...value.columns.values()];
      return cut(`table, ${columns.length} columns × ${columns[0]?.value.length ?? 0} rows`, length);
    }
  }
}
