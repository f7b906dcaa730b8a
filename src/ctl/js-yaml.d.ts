// The part of js-yaml (ships no types of its own) used for stream files.
declare module 'js-yaml' {
  export function load(text: string, options?: { filename?: string }): unknown;
}
