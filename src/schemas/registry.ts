/** Decoding any message by its file identifier, for readers that get buffers of several schemas. */
import { type Al00Message, AL00_IDENTIFIER, deserialiseAl00 } from './al00.js';
import { deserialiseEp00, type Ep00Message, EP00_IDENTIFIER } from './ep00.js';
import { deserialiseEp01, type Ep01Message, EP01_IDENTIFIER } from './ep01.js';
import { SchemaDecodeError } from './errors.js';
import { deserialiseF142, type F142Message, F142_IDENTIFIER } from './f142.js';
import { deserialiseF144, type F144Message, F144_IDENTIFIER } from './f144.js';
import { deserialiseFc00, type Fc00Message, FC00_IDENTIFIER } from './fc00.js';
import { readFileIdentifier } from './reader.js';
import { deserialiseRf5k, type Rf5kMessage, RF5K_IDENTIFIER } from './rf5k.js';
import { deserialiseSe00, type Se00Message, SE00_IDENTIFIER } from './se00.js';
import { deserialiseSenv, type SenvMessage, SENV_IDENTIFIER } from './senv.js';
import { deserialiseTdct, type TdctMessage, TDCT_IDENTIFIER } from './tdct.js';
import { deserialiseX5f2, type X5f2Message, X5F2_IDENTIFIER } from './x5f2.js';

/** The message type of each schema, by file identifier. */
export interface MessageOf {
  [F144_IDENTIFIER]: F144Message;
  [F142_IDENTIFIER]: F142Message;
  [AL00_IDENTIFIER]: Al00Message;
  [EP01_IDENTIFIER]: Ep01Message;
  [EP00_IDENTIFIER]: Ep00Message;
  [TDCT_IDENTIFIER]: TdctMessage;
  [SE00_IDENTIFIER]: Se00Message;
  [SENV_IDENTIFIER]: SenvMessage;
  [X5F2_IDENTIFIER]: X5f2Message;
  [FC00_IDENTIFIER]: Fc00Message;
  [RF5K_IDENTIFIER]: Rf5kMessage;
}

export type FileIdentifier = keyof MessageOf;

/** A decoded message tagged with its schema, so a switch on `schema` narrows `message`. */
export type DecodedMessage = {
  [I in FileIdentifier]: { readonly schema: I; readonly message: MessageOf[I] };
}[FileIdentifier];

export const DESERIALISERS: { readonly [I in FileIdentifier]: (bytes: Uint8Array) => MessageOf[I] } = {
  f144: deserialiseF144,
  f142: deserialiseF142,
  al00: deserialiseAl00,
  ep01: deserialiseEp01,
  ep00: deserialiseEp00,
  tdct: deserialiseTdct,
  se00: deserialiseSe00,
  senv: deserialiseSenv,
  x5f2: deserialiseX5f2,
  fc00: deserialiseFc00,
  rf5k: deserialiseRf5k,
};

export function isFileIdentifier(identifier: string): identifier is FileIdentifier {
  return Object.hasOwn(DESERIALISERS, identifier);
}

/** Decodes a buffer of any schema known here; SchemaDecodeError for anything else. */
export function deserialiseAny(bytes: Uint8Array): DecodedMessage {
  const schema = readFileIdentifier(bytes);
  if (!isFileIdentifier(schema)) {
    throw new SchemaDecodeError(
      'unknown-identifier',
      '',
      `no schema with file identifier ${JSON.stringify(schema)}`,
    );
  }
  return decodeAs(schema, bytes);
}

function decodeAs<I extends FileIdentifier>(schema: I, bytes: Uint8Array): DecodedMessage {
  return { schema, message: DESERIALISERS[schema](bytes) } as DecodedMessage;
}
