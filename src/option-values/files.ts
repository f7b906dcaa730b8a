/**
 * Option values that name files: a file holding a password, one to read (TLS certificates, keys), one to write, a
 * directory to keep files in.
 */
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileErrorReason } from '../util/file-error.js';
import { nonEmpty, OptionValueError, type ValueKind } from './kinds.js';

/** Far more than any password; a path to a device or a large file by mistake must not hang the launch. */
const maxPasswordFileBytes = 64 * 1024;

/**
 * A file holding a password (a file only the forwarder may read, a systemd credential, `<(pass show ...)`):
 * its content, less one trailing line break, is the password. Reads to the end, so a pipe works too. Neither
 * the content nor any part of it is ever quoted in a message.
 */
export const passwordFile: ValueKind<string> = {
  placeholder: 'file',
  parse(path) {
    nonEmpty(path);
    let content: Buffer;
    try {
      content = readAtMost(path, maxPasswordFileBytes + 1);
    } catch (error) {
      throw new OptionValueError(`cannot read "${path}": ${fileErrorReason(error)}`);
    }
    if (content.length > maxPasswordFileBytes) {
      throw new OptionValueError(
        `"${path}" is longer than ${maxPasswordFileBytes} bytes: not a password file`,
      );
    }
    const text = content.toString('utf8').replace(/\r?\n$/, '');
    if (text === '') throw new OptionValueError(`"${path}" is empty`);
    return text;
  },
};

function readAtMost(path: string, limit: number): Buffer {
  const buffer = Buffer.alloc(limit);
  const descriptor = openSync(path, 'r');
  try {
    let length = 0;
    while (length < limit) {
      const read = readSync(descriptor, buffer, length, limit - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(descriptor);
  }
}

/** Checked at start-up so that a wrong path is a clear usage error rather than a TLS failure later. */
export const readableFile: ValueKind<string> = {
  placeholder: 'file',
  parse(text) {
    const problem = fileProblem(nonEmpty(text), () => {
      accessSync(text, constants.R_OK);
      return statSync(text).isDirectory() ? 'it is a directory' : undefined;
    });
    if (problem !== undefined) throw new OptionValueError(`cannot read "${text}": ${problem}`);
    return text;
  },
};

/** The file need not exist yet, but its directory must, and it must be writable. */
export const writableFile: ValueKind<string> = {
  placeholder: 'file',
  parse(text) {
    const problem = fileProblem(nonEmpty(text), () => {
      const stats = statSync(text, { throwIfNoEntry: false });
      if (stats?.isDirectory()) return 'it is a directory';
      const directory = dirname(text);
      if (stats === undefined && statSync(directory, { throwIfNoEntry: false }) === undefined) {
        return `directory "${directory}" does not exist`;
      }
      accessSync(stats === undefined ? directory : text, constants.W_OK);
      return undefined;
    });
    if (problem !== undefined) throw new OptionValueError(`cannot write "${text}": ${problem}`);
    return text;
  },
};

/** A directory the forwarder keeps files in: it must be writable, or not exist yet in a writable directory. */
export const writableDirectory: ValueKind<string> = {
  placeholder: 'directory',
  parse(text) {
    const problem = fileProblem(nonEmpty(text), () => {
      const stats = statSync(text, { throwIfNoEntry: false });
      if (stats !== undefined && !stats.isDirectory()) return 'it is not a directory';
      const directory = stats === undefined ? dirname(text) : text;
      if (statSync(directory, { throwIfNoEntry: false }) === undefined) {
        return `directory "${directory}" does not exist`;
      }
      accessSync(directory, constants.W_OK | constants.X_OK);
      return undefined;
    });
    if (problem !== undefined) throw new OptionValueError(`cannot use "${text}": ${problem}`);
    return text;
  },
};

/** What `check` says is wrong with a path, or the reason it threw. */
function fileProblem(path: string, check: () => string | undefined): string | undefined {
  try {
    return check();
  } catch (error) {
    return fileErrorReason(error);
  }
}
