/** Why a buffer could not be decoded. */
export type SchemaDecodeFailure =
  /** Fewer bytes than a FlatBuffer with a file identifier needs (8). */
  | 'short-buffer'
  /** The file identifier is not the one the decoder reads. */
  | 'wrong-identifier'
  /** The file identifier belongs to no schema known here. */
  | 'unknown-identifier'
  /** An offset or length points outside the buffer. */
  | 'out-of-bounds'
  /** Structurally invalid: bad vtable, unknown union member, missing union value, invalid UTF-8. */
  | 'malformed';

/** A buffer that is not a valid message of the expected schema. Decoders throw nothing else. */
export class SchemaDecodeError extends Error {
  override readonly name = 'SchemaDecodeError';

  constructor(
    readonly reason: SchemaDecodeFailure,
    /** The file identifier the decoder expected, or '' when decoding any schema. */
    readonly schema: string,
    detail: string,
  ) {
    super(schema === '' ? detail : `${schema}: ${detail}`);
  }
}

/** A value the chosen schema cannot carry (a string on f144, a boolean anywhere, ...). */
export class UnsupportedValueError extends Error {
  override readonly name = 'UnsupportedValueError';
}
