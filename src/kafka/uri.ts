/**
 * Kafka URIs as both programs take them: the launcher's `--config-topic`, `--status-topic`, `--output-broker` and
 * `--storage-topic`, and forwarder-ctl's `--broker`. They parse into the types of endpoint.ts.
 *
 * Grammar: `[PROTOCOL+][MECHANISM\][user@]host[:port][,host[:port]...][/topic]`
 * - PROTOCOL: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; MECHANISM: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (both
 *   case-insensitive, normalised to upper case). A mechanism without a protocol implies SASL_PLAINTEXT; no
 *   protocol and no mechanism means PLAINTEXT.
 * - A SASL protocol needs a mechanism and a user; a user needs a mechanism; SSL and PLAINTEXT take neither.
 * - The user is everything between the mechanism's `\` and the last `@`, so user names such as
 *   `alice@example.org` work. A `:` in it is refused: it looks like `user:password@`, and passwords belong in
 *   the `-sasl-password` options, never in a URI.
 * - Hosts are names or IPv4 addresses; IPv6 addresses go in brackets (`[::1]:9092`). The port defaults to 9092
 *   (Kafka's and librdkafka's default) and must be 1..65535.
 * - The topic must be a legal Kafka topic name (letters, digits, `.`, `_`, `-`; at most 249 characters; not `.`
 *   or `..`). Whether a program may use Kafka's internal topics (`__consumer_offsets`, ...) is its own decision.
 *
 * Error messages quote the offending fragment (never the user name), so they can go to a log.
 */
import { AddressError, formatHostPort, parseHostPort } from '../util/host-port.js';
import { topicNameProblem } from '../streams/topic-name.js';
import type { KafkaUri, SaslMechanism, SecurityProtocol } from './endpoint.js';

export class KafkaUriError extends Error {
  override readonly name = 'KafkaUriError';
}

const securityProtocols: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const saslMechanisms: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
const saslProtocols: ReadonlySet<SecurityProtocol> = new Set(['SASL_PLAINTEXT', 'SASL_SSL']);

export const defaultKafkaPort = 9092;

export const kafkaUriSyntax = '[PROTOCOL+][MECHANISM\\][user@]host:port[,host:port...][/topic]';

/** Parses a Kafka URI (grammar above); throws KafkaUriError saying what is wrong. */
export function parseKafkaUri(text: string): KafkaUri {
  if (text === '') throw new KafkaUriError('empty Kafka URI, expected ' + kafkaUriSyntax);
  if (/\s/.test(text)) throw new KafkaUriError('Kafka URI contains white space');

  let rest = text;
  let protocol: SecurityProtocol | undefined;
  const plus = rest.indexOf('+');
  // A '+' after the start of the user or broker part belongs to the user name (or is an error found there).
  if (plus >= 0 && !/[\\@/]/.test(rest.slice(0, plus))) {
    protocol = choice(rest.slice(0, plus), securityProtocols, 'security protocol', '+');
    rest = rest.slice(plus + 1);
  }

  let at = rest.lastIndexOf('@');
  let mechanism: SaslMechanism | undefined;
  const backslash = rest.indexOf('\\');
  // A backslash after the last '@' is in the broker part, where it is reported as a bad host.
  if (backslash >= 0 && (at < 0 || backslash < at)) {
    mechanism = choice(rest.slice(0, backslash), saslMechanisms, 'SASL mechanism', '\\');
    rest = rest.slice(backslash + 1);
    at -= backslash + 1;
  }

  let username: string | undefined;
  if (at >= 0) {
    username = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (username === '') throw new KafkaUriError('empty user name before "@"');
    if (username.includes(':')) {
      throw new KafkaUriError(
        'the user name contains ":"; a password never goes in the URI, give it with the -sasl-password option',
      );
    }
  }

  const securityProtocol = checkSecurity(protocol, mechanism, username);
  const { brokers, topic } = parseLocation(rest);
  return {
    brokers,
    securityProtocol,
    ...(topic !== undefined && { topic }),
    ...(mechanism !== undefined && { saslMechanism: mechanism }),
    ...(username !== undefined && { username }),
  };
}

function choice<T extends string>(text: string, allowed: readonly T[], what: string, separator: string): T {
  if (text === '') throw new KafkaUriError(`empty ${what} before "${separator}"`);
  const found = allowed.find((name) => name === text.toUpperCase());
  if (found === undefined) {
    throw new KafkaUriError(`unknown ${what} "${text}" (expected ${alternatives(allowed)})`);
  }
  return found;
}

function alternatives(names: readonly string[]): string {
  return names.slice(0, -1).join(', ') + ' or ' + names.at(-1);
}

function checkSecurity(
  protocol: SecurityProtocol | undefined,
  mechanism: SaslMechanism | undefined,
  username: string | undefined,
): SecurityProtocol {
  const effective = protocol ?? (mechanism === undefined ? 'PLAINTEXT' : 'SASL_PLAINTEXT');
  if (saslProtocols.has(effective)) {
    if (mechanism === undefined) {
      throw new KafkaUriError(
        `${effective} needs a SASL mechanism and a user name: ${effective}+MECHANISM\\user@host:port`,
      );
    }
    if (username === undefined) {
      throw new KafkaUriError(`SASL mechanism ${mechanism} needs a user name: ${mechanism}\\user@host:port`);
    }
    return effective;
  }
  if (mechanism !== undefined) {
    throw new KafkaUriError(
      `${effective} does not use SASL, so it takes no mechanism ${mechanism} (use SASL_PLAINTEXT or SASL_SSL)`,
    );
  }
  if (username !== undefined) {
    throw new KafkaUriError(
      `a user name needs a SASL mechanism: [SASL_PLAINTEXT+|SASL_SSL+]MECHANISM\\user@host:port`,
    );
  }
  return effective;
}

function parseLocation(text: string): { brokers: string; topic?: string } {
  const slash = text.indexOf('/');
  const brokerList = slash < 0 ? text : text.slice(0, slash);
  const topic = slash < 0 ? undefined : text.slice(slash + 1);
  if (brokerList === '') throw new KafkaUriError('no broker given, expected host:port');
  const brokers = brokerList
    .split(',')
    .map((broker) => {
      if (broker === '') throw new KafkaUriError(`empty broker address in "${brokerList}"`);
      try {
        return formatHostPort(parseHostPort(broker, defaultKafkaPort));
      } catch (error) {
        if (error instanceof AddressError) throw new KafkaUriError(`broker "${broker}": ${error.message}`);
        throw error;
      }
    })
    .join(',');
  if (topic !== undefined) checkTopic(topic);
  return topic === undefined ? { brokers } : { brokers, topic };
}

/** Throws KafkaUriError unless `topic` is a legal Kafka topic name. */
export function checkTopic(topic: string): void {
  if (topic === '') throw new KafkaUriError('empty topic after "/"');
  if (topic.includes('/')) throw new KafkaUriError(`more than one "/" (topic "${topic}")`);
  const problem = topicNameProblem(topic);
  if (problem !== undefined) throw new KafkaUriError(`topic "${topic}" ${problem}`);
}
