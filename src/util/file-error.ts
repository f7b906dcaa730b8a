/** Why a file could not be read or written, in words fit for a one-line message. */

const fileErrorReasons: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

/** A short reason for a failed file operation, without Node's "ENOENT: ..., open '...'" decoration. */
export function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) return fileErrorReasons[code] ?? code;
  return error instanceof Error ? error.message : String(error);
}
