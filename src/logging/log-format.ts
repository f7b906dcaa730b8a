/**
 * What a log record looks like on its way out: the time it was logged, its structured details (meta), secrets
 * hidden, and the plain one-line form written to stderr or the log file. Shared by every log destination.
 */
import winston from 'winston';

/** Where the logger stores the record's time (ms since the epoch), so every destination shows the same time. */
export const LOGGED_AT: unique symbol = Symbol('loggedAt');

/** The key winston's stream transports write out (triple-beam's MESSAGE, a registered symbol). */
const MESSAGE = Symbol.for('message');

/** A winston record as formats and transports see it. */
export type LogRecord = winston.Logform.TransformableInfo & { [LOGGED_AT]?: number };

/** Meta keys whose values never reach a log: sasl.password, ssl.key.password, client secrets, ... */
const SECRET_KEY = /password|secret/i;
export const REDACTED = '[redacted]';

/**
 * `key=value`, `key: value` and `"key":"value"` text where the key mentions a password or secret: the value is
 * hidden. Catches librdkafka-style property dumps (`sasl.password=...`) and JSON that ends up in a message.
 */
const SECRET_ASSIGNMENT = /(password|secret)([\w.-]*["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)/gi;

function hideValue(_match: string, key: string, separator: string, value: string): string {
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
  return `${key}${separator}${quote}${REDACTED}${quote}`;
}

/** The text with the value of every password/secret assignment hidden. Returns the same string when none. */
export function redactText(text: string): string {
  return text.replace(SECRET_ASSIGNMENT, hideValue);
}

function errorText(error: Error): string {
  return redactText(error.name === 'Error' ? error.message : `${error.name}: ${error.message}`);
}

/**
 * A meta value as it may appear in a log: hidden when its key names a secret, strings redacted, errors as
 * their message, bigints as decimal text. Usable as a JSON.stringify replacer, which applies it at every depth.
 */
export function loggableValue(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEY.test(key)) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return errorText(value);
  return value;
}

/** Compact JSON of a meta value with `loggableValue` applied throughout; undefined for undefined. */
export function compactJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, loggableValue);
  } catch {
    // Circular structures: the record is still worth logging without its details.
    return '"[unserialisable]"';
  }
}

/** Keys winston puts on every record; everything else came from the caller's meta. */
const RECORD_KEYS: ReadonlySet<string> = new Set(['level', 'message']);

/** The caller's meta of a record (its own string keys besides level and message), or undefined when none. */
export function metaOf(record: LogRecord): Record<string, unknown> | undefined {
  let meta: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    if (RECORD_KEYS.has(key)) continue;
    meta ??= {};
    meta[key] = record[key];
  }
  return meta;
}

/** The message of a record as text (winston allows any value), redacted. */
export function messageOf(record: LogRecord): string {
  return redactText(typeof record.message === 'string' ? record.message : String(record.message));
}

/** When the record was logged (ms since the epoch); now if the logger did not stamp it. */
export function loggedAt(record: LogRecord): number {
  return record[LOGGED_AT] ?? Date.now();
}

/**
 * The plain line for stderr and the log file: ISO time, upper-case level, message, and the meta as compact
 * JSON when there is any. `2025-01-31T12:00:00.000Z WARN Stream removed {"pv":"X"}`.
 */
export function formatLogLine(record: LogRecord): string {
  const head = `${new Date(loggedAt(record)).toISOString()} ${record.level.toUpperCase()} ${messageOf(record)}`;
  const meta = metaOf(record);
  return meta === undefined ? head : `${head} ${compactJson(meta) ?? ''}`;
}

/** Logger-level format: stamps the time once, so all destinations agree. Cheap: it runs for every call. */
export const stampTime = winston.format((record: LogRecord) => {
  record[LOGGED_AT] = Date.now();
  return record;
});

/** Transport format producing `formatLogLine` (winston transports write `record[MESSAGE]`). */
export const plainLine = winston.format((record: LogRecord) => {
  record[MESSAGE] = formatLogLine(record);
  return record;
});
