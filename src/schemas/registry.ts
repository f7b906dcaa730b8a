/**
 * Reading any message by its file identifier, for readers that get buffers of several schemas: every message
 * the forwarder reads or writes, legacy ones included. The names a stream gives its output schema (nttable_se00,
 * no_op, ...) are another table, output-schemas.ts.
 */
import { AD00_ENUM_FIELDS, AD00_IDENTIFIER, type Ad00Message, deserialiseAd00 } from './ad00.js';
import { AL00_ENUM_FIELDS, type Al00Message, AL00_IDENTIFIER, deserialiseAl00 } from './al00.js';
import { DA00_ENUM_FIELDS, DA00_IDENTIFIER, type Da00Message, deserialiseDa00 } from './da00.js';
import { deserialiseEp00, EP00_ENUM_FIELDS, type Ep00Message, EP00_IDENTIFIER } from './ep00.js';
import { deserialiseEp01, EP01_ENUM_FIELDS, type Ep01Message, EP01_IDENTIFIER } from './ep01.js';
import { SchemaDecodeError } from './errors.js';
import { deserialiseF142, F142_ENUM_FIELDS, type F142Message, F142_IDENTIFIER } from './f142.js';
import { deserialiseF144, type F144Message, F144_IDENTIFIER } from './f144.js';
import { deserialiseFc00, FC00_ENUM_FIELDS, type Fc00Message, FC00_IDENTIFIER } from './fc00.js';
import { type EnumFields, readFileIdentifier } from './reader.js';
import { deserialiseRf5k, RF5K_ENUM_FIELDS, type Rf5kMessage, RF5K_IDENTIFIER } from './rf5k.js';
import { deserialiseSe00, SE00_ENUM_FIELDS, type Se00Message, SE00_IDENTIFIER } from './se00.js';
import { deserialiseSenv, SENV_ENUM_FIELDS, type SenvMessage, SENV_IDENTIFIER } from './senv.js';
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
  [AD00_IDENTIFIER]: Ad00Message;
  [DA00_IDENTIFIER]: Da00Message;
  [X5F2_IDENTIFIER]: X5f2Message;
  [FC00_IDENTIFIER]: Fc00Message;
  [RF5K_IDENTIFIER]: Rf5kMessage;
}

export type FileIdentifier = keyof MessageOf;

/** A decoded message tagged with its schema, so a switch on `schema` narrows `message`. */
export type DecodedMessage = {
  [I in FileIdentifier]: { readonly schema: I; readonly message: MessageOf[I] };
}[FileIdentifier];

/** How to read the messages of one schema. */
export interface SchemaReader<M> {
  readonly deserialise: (bytes: Uint8Array) => M;
  readonly enumFields: EnumFields;
}

export const SCHEMA_READERS: { readonly [I in FileIdentifier]: SchemaReader<MessageOf[I]> } = {
  f144: { deserialise: deserialiseF144, enumFields: {} },
  f142: { deserialise: deserialiseF142, enumFields: F142_ENUM_FIELDS },
  al00: { deserialise: deserialiseAl00, enumFields: AL00_ENUM_FIELDS },
  ep01: { deserialise: deserialiseEp01, enumFields: EP01_ENUM_FIELDS },
  ep00: { deserialise: deserialiseEp00, enumFields: EP00_ENUM_FIELDS },
  tdct: { deserialise: deserialiseTdct, enumFields: {} },
  se00: { deserialise: deserialiseSe00, enumFields: SE00_ENUM_FIELDS },
  senv: { deserialise: deserialiseSenv, enumFields: SENV_ENUM_FIELDS },
  ad00: { deserialise: deserialiseAd00, enumFields: AD00_ENUM_FIELDS },
  da00: { deserialise: deserialiseDa00, enumFields: DA00_ENUM_FIELDS },
  x5f2: { deserialise: deserialiseX5f2, enumFields: {} },
  fc00: { deserialise: deserialiseFc00, enumFields: FC00_ENUM_FIELDS },
  rf5k: { deserialise: deserialiseRf5k, enumFields: RF5K_ENUM_FIELDS },
};

export function isFileIdentifier(identifier: string): identifier is FileIdentifier {
  return Object.hasOwn(SCHEMA_READERS, identifier);
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
  return { schema, message: SCHEMA_READERS[schema].deserialise(bytes) } as DecodedMessage;
}
