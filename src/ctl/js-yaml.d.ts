// The part of js-yaml (a dependency of @confluentinc/kafka-javascript, which ships no types) used for stream files.
declare module 'js-yaml' {
  export function load(text: string, options?: { filename?: string }): unknown;
}
