/**
 * How an option's text becomes a value, for the options of both programs: each kind parses one text (from the
 * command line, the environment or a config file alike) and throws OptionValueError saying what is wrong with it.
 * The launcher's option table (src/cli/options/table.ts) is made of these kinds, and forwarder-ctl checks its
 * Kafka options with the same ones, so both programs accept and refuse the same things. Messages never quote a
 * password. Kinds that read files are in files.ts, Kafka's in kafka.ts.
 */
import { type GraylogAddress, parseGraylogAddress } from '../logging/gelf-transport.js';
import type { Verbosity } from '../logging/logging.js';
import { AddressError, type HostPort, parseHostPort } from '../util/host-port.js';

/** A wrong value; the message says what is wrong with it and never quotes a password. */
export class OptionValueError extends Error {}

export interface ValueKind<T> {
  /** Shown in help after the option; undefined for a flag, which takes no value on the command line. */
  readonly placeholder: string | undefined;
  /** Throws OptionValueError. */
  parse(text: string): T;
  /** For options that may be given many times: merges a value of higher precedence into one of lower. */
  combine?(lower: T, higher: T): T;
}

export function nonEmpty(text: string): string {
  if (text === '') throw new OptionValueError('must not be empty');
  return text;
}

export const textValue = (placeholder: string): ValueKind<string> => ({ placeholder, parse: nonEmpty });

/** Never quoted in a message. */
export const password: ValueKind<string> = { placeholder: 'password', parse: nonEmpty };

const flagTexts: ReadonlyMap<string, boolean> = new Map([
  ...['true', 'yes', 'on', '1'].map((text) => [text, true] as const),
  ...['false', 'no', 'off', '0'].map((text) => [text, false] as const),
]);

export const flag: ValueKind<boolean> = {
  placeholder: undefined,
  parse(text) {
    const value = flagTexts.get(text.toLowerCase());
    if (value === undefined) throw new OptionValueError(`"${text}" is not true or false`);
    return value;
  },
};

const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
};

/** A size in bytes: a whole number, optionally with K, M, G or T (powers of 1024), e.g. 500M or 20G. */
export const byteSize: ValueKind<number> = {
  placeholder: 'bytes',
  parse(text) {
    const match = /^([0-9]+)([KMGT]?)i?B?$/i.exec(text.trim());
    const value = match ? Number(match[1]) * (BYTE_UNITS[(match[2] ?? '').toUpperCase()] ?? 1) : NaN;
    if (!(value >= 1) || !Number.isSafeInteger(value)) {
      throw new OptionValueError(
        `"${text}" is not a size in bytes (a whole number, optionally with K, M, G or T)`,
      );
    }
    return value;
  },
};

/** Node's timers cannot wait longer (a larger delay fires after 1 ms). */
const maxTimerMs = 2 ** 31 - 1;

const integerPlaceholders = { milliseconds: 'ms', seconds: 's', count: 'n' } as const;

export function positiveInteger(unit: keyof typeof integerPlaceholders): ValueKind<number> {
  const max = unit === 'seconds' ? Math.floor(maxTimerMs / 1000) : maxTimerMs;
  return {
    placeholder: integerPlaceholders[unit],
    parse(text) {
      const value = Number(text);
      if (!/^[0-9]+$/.test(text) || value < 1) {
        throw new OptionValueError(`"${text}" is not a positive integer (${unit})`);
      }
      if (value > max) throw new OptionValueError(`${text} ${unit} is more than the maximum, ${max}`);
      return value;
    },
  };
}

export function hostPort(defaultPort?: number): ValueKind<HostPort> {
  return {
    placeholder: defaultPort === undefined ? 'host:port' : 'host[:port]',
    parse(text) {
      try {
        return parseHostPort(nonEmpty(text), defaultPort);
      } catch (error) {
        if (error instanceof AddressError) throw new OptionValueError(error.message);
        throw error;
      }
    },
  };
}

export const loopback = '127.0.0.1';

/**
 * `port` alone listens on loopback (127.0.0.1), `host:port` on that host: the HTTP listener has no
 * authentication, so serving other hosts must be asked for by naming an address.
 */
export const listenAddress: ValueKind<HostPort> = {
  placeholder: '[host:]port',
  parse(text) {
    return hostPort().parse(/^[0-9]+$/.test(text) ? `${loopback}:${text}` : text);
  },
};

/** `[udp:|tcp:]host:port`: GELF over UDP by default, TCP when asked (Graylog's TCP input is the reliable one). */
export const graylogAddress: ValueKind<GraylogAddress> = {
  placeholder: 'address',
  parse(text) {
    try {
      return parseGraylogAddress(nonEmpty(text));
    } catch (error) {
      if (error instanceof RangeError) throw new OptionValueError(error.message);
      throw error;
    }
  },
};

export const verbosities: readonly Verbosity[] = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Critical'];

export const verbosity: ValueKind<Verbosity> = {
  placeholder: 'level',
  parse(text) {
    const level = verbosities.find((name) => name.toLowerCase() === text.toLowerCase());
    if (level === undefined) throw new OptionValueError(`"${text}" is not one of ${verbosities.join(', ')}`);
    return level;
  },
};
