/**
 * Shell-style wildcards as the reference matches REMOVE requests (Python's fnmatch on POSIX): `*` any run of
 * characters including none, `?` one character, `[seq]` and `[!seq]` character classes; case-sensitive; no
 * path semantics (`*` crosses `/`). An unterminated `[` is a literal `[`.
 */
export function wildcardToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = classEnd(pattern, i);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\^\]]/g, (c) => (c === ']' ? '\\]' : `\\${c}`))}]`;
      i = end;
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** Index of the `]` closing the class that opens at `start`, or -1; a `]` first in the class is literal. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern.charAt(i) === '!') i++;
  if (pattern.charAt(i) === ']') i++;
  const end = pattern.indexOf(']', i);
  return end;
}

/** A matcher for one request field: empty matches everything, otherwise the wildcard pattern. */
export function fieldMatcher(pattern: string | undefined): (value: string) => boolean {
  if (!pattern) return () => true;
  if (!/[*?[]/.test(pattern)) return (value) => value === pattern;
  const regExp = wildcardToRegExp(pattern);
  return (value) => regExp.test(value);
}
