/**
 * Option values for Kafka: a topic name, a Kafka URI (grammar in src/kafka/uri.ts) and extra librdkafka
 * properties, which librdkafka itself checks.
 */
import rdkafka from '@confluentinc/kafka-javascript';
import type { KafkaUri } from '../kafka/endpoint.js';
import { checkTopic, KafkaUriError, parseKafkaUri } from '../kafka/uri.js';
import { forwarderTopicProblem, isInternalTopic } from '../streams/topic-name.js';
import { OptionValueError, type ValueKind } from './kinds.js';

export const topicName: ValueKind<string> = {
  placeholder: 'topic',
  parse(text) {
    try {
      checkTopic(text);
    } catch (error) {
      if (error instanceof KafkaUriError) throw new OptionValueError(error.message);
      throw error;
    }
    refuseInternal(text);
    return text;
  },
};

/** The forwarder's own topics are never Kafka's internal ones (a legal name, but a mistake). */
function refuseInternal(topic: string): void {
  if (isInternalTopic(topic)) throw new OptionValueError(`topic "${topic}" ${forwarderTopicProblem(topic)}`);
}

/** `topic: 'required'` for topic URIs; `'dropped'` for the output broker, whose topic part is ignored. */
export function kafkaUri(topic: 'required' | 'dropped'): ValueKind<KafkaUri> {
  return {
    placeholder: 'uri',
    parse(text) {
      let uri: KafkaUri;
      try {
        uri = parseKafkaUri(text);
      } catch (error) {
        if (error instanceof KafkaUriError) throw new OptionValueError(error.message);
        throw error;
      }
      if (topic === 'dropped') return withoutTopic(uri);
      if (uri.topic === undefined) throw new OptionValueError('no topic given: add /topic after the brokers');
      refuseInternal(uri.topic);
      return uri;
    },
  };
}

function withoutTopic({ topic: _ignored, ...uri }: KafkaUri): KafkaUri {
  return uri;
}

const propertyNamePattern = /^[A-Za-z0-9._-]+$/;

/**
 * `key=value[;key=value...]`. Semicolons separate pairs because commas occur in librdkafka values
 * (`debug=broker,topic`). Values are never quoted in messages: they may be secrets.
 */
export const kafkaProperties: ValueKind<Readonly<Record<string, string>>> = {
  placeholder: 'key=value',
  parse(text) {
    const properties: Record<string, string> = {};
    for (const pair of text.split(';')) {
      if (pair.trim() === '') continue;
      const equals = pair.indexOf('=');
      if (equals < 0) throw new OptionValueError(`"${pair.trim()}" is not key=value`);
      const key = pair.slice(0, equals).trim();
      if (!propertyNamePattern.test(key)) {
        throw new OptionValueError(
          key === '' ? 'a property has no name before "="' : `"${key}" is not a librdkafka property name`,
        );
      }
      properties[key] = pair.slice(equals + 1).trim();
    }
    checkWithLibrdkafka(properties);
    return properties;
  },
  combine: (lower, higher) => ({ ...lower, ...higher }),
};

/**
 * Lets librdkafka check property names and values (creating a client object does not connect), so that a typo is
 * a usage error rather than a failure when the first client is created. Its messages name the property and
 * quote only values of numeric, boolean and enumerated properties, never a password.
 */
function checkWithLibrdkafka(properties: Readonly<Record<string, string>>): void {
  try {
    // A copy: the client deletes keys of the object it is given.
    new rdkafka.Producer({ ...properties });
  } catch (error) {
    throw new OptionValueError((error as Error).message.trim());
  }
}
