/**
 * Stream lists for add, remove and replace, read from the command line or from a file for hundreds of PVs at
 * once. Every format gives the same five fields per stream: pv, protocol, topic, schema, periodic.
 *
 * - JSON and YAML: a list of objects, or an object whose `streams` is that list:
 *   `[{"pv": "SIM:T1", "protocol": "ca", "topic": "motion", "schema": "f144", "periodic": true}]`
 * - CSV: one stream a line, `pv,protocol,topic,schema[,periodic]`; a first line naming the columns (`pv,...`) sets
 *   their order; RFC 4180 quoting; blank lines and lines starting with `#` are skipped.
 *
 * A missing field reads as empty (REMOVE takes empty fields as "any"). This module only reads; what a command
 * accepts is checked in stream-commands.ts.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { flag } from '../option-values/kinds.js';
import { fileErrorReason } from '../util/file-error.js';
import { UsageError } from './errors.js';

export interface StreamEntry {
  readonly pv: string;
  readonly protocol: string;
  readonly topic: string;
  readonly schema: string;
  /** Undefined when not given, so the command line's --periodic applies. */
  readonly periodic?: boolean;
  /** Where the entry came from, for messages: `streams.csv line 4`, `streams.json stream 2`. */
  readonly where: string;
}

export const STREAM_FILE_FORMATS = ['json', 'yaml', 'csv'] as const;
export type StreamFileFormat = (typeof STREAM_FILE_FORMATS)[number];

const TEXT_FIELDS = ['pv', 'protocol', 'topic', 'schema'] as const;
const FIELDS: readonly string[] = [...TEXT_FIELDS, 'periodic'];
const FIELD_LIST = FIELDS.join(', ');

const FORMAT_OF_EXTENSION: Readonly<Record<string, StreamFileFormat>> = {
  '.json': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.csv': 'csv',
};

/**
 * Streams given as arguments: PV PROTOCOL TOPIC SCHEMA, repeated. `periodic` is left to --periodic.
 */
export function entriesFromArguments(args: readonly string[]): StreamEntry[] {
  if (args.length % TEXT_FIELDS.length !== 0) {
    throw new UsageError(
      `expected PV PROTOCOL TOPIC SCHEMA for each stream, but got ${args.length} arguments ` +
        `(quote empty fields as '')`,
    );
  }
  const entries: StreamEntry[] = [];
  for (let index = 0; index < args.length; index += TEXT_FIELDS.length) {
    const [pv = '', protocol = '', topic = '', schema = ''] = args.slice(index, index + TEXT_FIELDS.length);
    entries.push({
      pv,
      protocol,
      topic,
      schema,
      where: `stream ${index / TEXT_FIELDS.length + 1} of the arguments`,
    });
  }
  return entries;
}

/** Reads a stream file (`-` for stdin); the format comes from `format` or else the file name's extension. */
export async function readStreamFile(path: string, format?: StreamFileFormat): Promise<StreamEntry[]> {
  const chosen = format ?? FORMAT_OF_EXTENSION[extname(path).toLowerCase()];
  if (chosen === undefined) {
    throw new UsageError(
      `cannot tell the format of "${path}" from its name: use --format ${STREAM_FILE_FORMATS.join('|')}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read "${path}": ${fileErrorReason(error)}`);
  }
  const name = path === '-' ? 'stdin' : path;
  return parseStreamText(text.replace(/^\uFEFF/, ''), chosen, name);
}

/** Parses stream file text; `name` is only used in messages. */
export async function parseStreamText(
  text: string,
  format: StreamFileFormat,
  name: string,
): Promise<StreamEntry[]> {
  switch (format) {
    case 'json':
      return entriesFromData(parseJson(text, name), name);
    case 'yaml':
      return entriesFromData(await parseYaml(text, name), name);
    case 'csv':
      return entriesFromCsv(text, name);
  }
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}

async function parseYaml(text: string, name: string): Promise<unknown> {
  let load: (text: string, options?: { filename?: string }) => unknown;
  try {
    ({ load } = await import('js-yaml'));
  } catch {
    throw new UsageError(`reading YAML needs the js-yaml package, which is not installed: use JSON or CSV`);
  }
  try {
    return load(text, { filename: name });
  } catch (error) {
    // js-yaml's messages end with a source excerpt over several lines; the first line says what and where.
    const reason = ((error as Error).message.split('\n')[0] ?? '').trim();
    throw new UsageError(`${name} is not valid YAML: ${reason}`);
  }
}

function entriesFromData(data: unknown, name: string): StreamEntry[] {
  const list = Array.isArray(data) ? data : isRecord(data) ? data['streams'] : undefined;
  if (!Array.isArray(list)) {
    throw new UsageError(`${name}: expected a list of streams, or an object with a "streams" list`);
  }
  return list.map((item, index) => entryFromObject(item, `${name} stream ${index + 1}`));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entryFromObject(item: unknown, where: string): StreamEntry {
  if (!isRecord(item)) throw new UsageError(`${where}: expected an object with fields ${FIELD_LIST}`);
  const unknown = Object.keys(item).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new UsageError(`${where}: unknown field "${unknown}" (the fields are ${FIELD_LIST})`);
  }
  const text = (field: (typeof TEXT_FIELDS)[number]): string => {
    const value = item[field];
    if (value === undefined || value === null) return '';
    // A YAML 1e3 or 0777 is a number; silently turning it back into text would not give what was written.
    if (typeof value !== 'string') throw new UsageError(`${where}: ${field} must be a string (quote it)`);
    return value;
  };
  const periodic = periodicOf(item['periodic'], where);
  return {
    pv: text('pv'),
    protocol: text('protocol'),
    topic: text('topic'),
    schema: text('schema'),
    ...(periodic === undefined ? {} : { periodic }),
    where,
  };
}

function periodicOf(value: unknown, where: string): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    try {
      return flag.parse(value);
    } catch (error) {
      throw new UsageError(`${where}: periodic: ${(error as Error).message}`);
    }
  }
  throw new UsageError(`${where}: periodic must be true or false`);
}

function entriesFromCsv(text: string, name: string): StreamEntry[] {
  const records = csvRecords(text, name).filter(
    ({ fields }) => !(fields.every((field) => field === '') || fields[0]?.startsWith('#')),
  );
  let columns: readonly string[] = FIELDS;
  const first = records[0];
  if (first !== undefined && first.fields.map((field) => field.toLowerCase()).includes('pv')) {
    columns = first.fields.map((field) => field.toLowerCase());
    const unknown = columns.find((column) => !FIELDS.includes(column));
    if (unknown !== undefined) {
      throw new UsageError(
        `${name} line ${first.line}: unknown column "${unknown}" (the columns are ${FIELD_LIST})`,
      );
    }
    records.shift();
  }
  return records.map(({ fields, line }) => {
    const where = `${name} line ${line}`;
    if (fields.length > columns.length) {
      throw new UsageError(
        `${where}: ${fields.length} fields, but there are ${columns.length} columns (${columns.join(',')})`,
      );
    }
    return entryFromObject(Object.fromEntries(fields.map((field, index) => [columns[index], field])), where);
  });
}

/**
 * RFC 4180 records: fields separated by commas, a field in double quotes may hold commas, line breaks and `""`
 * for a quote. Fields are trimmed (no stream field may contain white space). Each record keeps its first line.
 */
export function csvRecords(text: string, name: string): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const endRecord = (): void => {
    fields.push(field.trim());
    records.push({ fields, line: recordLine });
    fields = [];
    field = '';
  };
  for (let index = 0; index < text.length; index++) {
    const char = text.charAt(index);
    if (quoted) {
      if (char === '"' && text.charAt(index + 1) === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n') line++;
        field += char;
      }
    } else if (char === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (char === ',') {
      fields.push(field.trim());
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text.charAt(index + 1) === '\n') index++;
      endRecord();
      line++;
      recordLine = line;
    } else field += char;
  }
  if (quoted) throw new UsageError(`${name} line ${recordLine}: a quoted field is not closed`);
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
