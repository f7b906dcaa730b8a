/**
 * The launcher's config file, in the syntax of ConfigArgParse (which the reference forwarder uses):
 *
 *     # a comment line                       blank lines are ignored too
 *     output-broker=localhost:9092           key=value
 *     pv-update-period: 1000                 key: value
 *     service-id forwarder-1                 key value
 *     skip-retrieval                         a key alone (a flag: true)
 *     log-file = "/var/log/forwarder.log"    one pair of surrounding quotes is removed
 *     verbosity = Debug  # a comment         a comment after white space ends the value
 *     [forwarder]                            section headers are ignored, so ini files work
 *
 * This module only reads the syntax; which keys exist and what their values mean is the option table's business
 * (table.ts).
 */
import { readFileSync } from 'node:fs';
import { fileErrorReason } from '../../util/file-error.js';

export interface ConfigFileEntry {
  readonly key: string;
  /** Undefined when the key stands alone on its line. */
  readonly value: string | undefined;
  /** 1-based. */
  readonly line: number;
}

export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
}

/** Reads and parses a config file; throws ConfigFileError naming the path (and line) on any problem. */
export function readConfigFile(path: string): ConfigFileEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(`cannot read "${path}": ${fileErrorReason(error)}`);
  }
  return parseConfigFile(text, path);
}

/** Parses config file text; `path` is only used in error messages. */
export function parseConfigFile(text: string, path: string): ConfigFileEntry[] {
  const entries: ConfigFileEntry[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((rawLine, index) => {
      const line = rawLine.trim();
      if (line === '' || line.startsWith('#') || /^\[[^\]]*\]$/.test(line)) return;
      try {
        entries.push({ ...parseLine(line), line: index + 1 });
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        throw new ConfigFileError(`${path} line ${index + 1}: ${error.message}`);
      }
    });
  return entries;
}

const keyPattern = /^[^\s:=#"']+/;

/** One non-blank, non-comment line, already trimmed; throws SyntaxError. */
function parseLine(line: string): { key: string; value: string | undefined } {
  const key = keyPattern.exec(line)?.[0];
  if (key === undefined) throw new SyntaxError('expected key=value');
  let rest = line.slice(key.length);
  if (rest !== '' && !/^[\s:=]/.test(rest)) throw new SyntaxError(`unexpected "${rest[0]}" after "${key}"`);
  rest = rest.trimStart();
  const separated = rest.startsWith('=') || rest.startsWith(':');
  if (separated) rest = rest.slice(1).trimStart();
  if (separated) return { key, value: parseValue(rest) };
  // "key" and "key  # comment" stand alone; after "=" or ":" even a leading "#" is part of the value.
  return { key, value: rest === '' || rest.startsWith('#') ? undefined : parseValue(rest) };
}

/** The value part of a line: a quoted string, or the text up to a comment that follows white space. */
function parseValue(text: string): string {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, 1);
    if (close < 0) throw new SyntaxError(`no closing ${quote} for the quoted value`);
    const after = text.slice(close + 1).trim();
    if (after !== '' && !after.startsWith('#')) {
      throw new SyntaxError(`unexpected text after the quoted value`);
    }
    return text.slice(1, close);
  }
  const comment = /\s#/.exec(text);
  return (comment === null ? text : text.slice(0, comment.index)).trimEnd();
}
