import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamRegistry } from '../../../src/streams/registry.js';
import type { OutputSchema, StreamSpec } from '../../../src/model/stream.js';
import { wildcardToRegExp } from '../../../src/streams/wildcard.js';

const spec = (
  pvName: string,
  topic = 'topic',
  schema: OutputSchema = 'f144',
  periodic = false,
): StreamSpec => ({
  pvName,
  protocol: 'ca',
  topic,
  schema,
  periodic,
});

function registryWith(...streams: StreamSpec[]): StreamRegistry {
  const registry = new StreamRegistry();
  registry.apply({ type: 'add', streams });
  return registry;
}

const names = (registry: StreamRegistry): string[] =>
  registry.list().map((s) => `${s.pvName}/${s.topic}/${s.schema}`);

describe('stream registry', () => {
  it('adds streams once: same PV with another topic or schema is another stream', () => {
    const registry = registryWith(spec('a'), spec('a', 'other'), spec('a', 'topic', 'f142'));
    const change = registry.apply({ type: 'add', streams: [spec('a')] });
    assert.equal(registry.size, 3);
    assert.deepEqual(change.added, []);
    assert.equal(change.unchanged.length, 1);
  });

  it('treats periodic as a property: re-adding with another flag changes it', () => {
    const registry = registryWith(spec('a'));
    const change = registry.apply({ type: 'add', streams: [spec('a', 'topic', 'f144', true)] });
    assert.equal(registry.size, 1);
    assert.deepEqual(change.periodicChanged, [spec('a', 'topic', 'f144', true)]);
    assert.equal(registry.list()[0]?.periodic, true);
  });

  it('removes by name, topic, schema and their combinations, only full matches', () => {
    const make = () =>
      registryWith(spec('x1', 't1', 'f142'), spec('x2', 't2', 'f144'), spec('y1', 't1', 'f144'));
    const remove = (pvName: string, topic: string, schema: string) => {
      const registry = make();
      // Also a schema the parser refuses (a wildcard), to show the registry matches schemas exactly.
      registry.apply({ type: 'remove', patterns: [{ pvName, topic, schema: schema as OutputSchema | '' }] });
      return names(registry);
    };
    assert.deepEqual(remove('x1', '', ''), ['x2/t2/f144', 'y1/t1/f144']);
    assert.deepEqual(remove('', 't1', ''), ['x2/t2/f144']);
    assert.deepEqual(remove('', '', 'f144'), ['x1/t1/f142']);
    assert.deepEqual(remove('', 't1', 'f144'), ['x1/t1/f142', 'x2/t2/f144']);
    assert.deepEqual(remove('x?', 't*', ''), ['y1/t1/f144']);
    assert.deepEqual(remove('*1', '', ''), ['x2/t2/f144']);
    assert.deepEqual(remove('', '', 'f?42'), ['x1/t1/f142', 'x2/t2/f144', 'y1/t1/f144'], 'schema is exact');
    assert.deepEqual(remove('nothing', '', ''), ['x1/t1/f142', 'x2/t2/f144', 'y1/t1/f144']);
  });

  it('REMOVEALL empties; REPLACE keeps the streams it names and swaps the rest', () => {
    const registry = registryWith(spec('a'), spec('b'), spec('c'));
    const change = registry.apply({
      type: 'replace',
      streams: [spec('b', 'topic', 'f144', true), spec('d')],
    });
    assert.deepEqual(names(registry), ['b/topic/f144', 'd/topic/f144']);
    assert.deepEqual(
      change.removed.map((s) => s.pvName),
      ['a', 'c'],
    );
    assert.deepEqual(
      change.added.map((s) => s.pvName),
      ['d'],
    );
    assert.deepEqual(
      change.periodicChanged.map((s) => s.pvName),
      ['b'],
    );
    registry.apply({ type: 'removeAll' });
    assert.equal(registry.size, 0);
  });
});

describe('wildcards (fnmatch)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true],
    ['a*', 'a/b.c', true],
    ['?', 'ab', false],
    ['SIM?LE:*', 'SIMPLE:DOUBLE', true],
    ['[ab]x', 'bx', true],
    ['[!ab]x', 'bx', false],
    ['[!ab]x', 'cx', true],
    ['[]]', ']', true],
    ['a[', 'a[', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['A*', 'a', false],
  ];
  for (const [pattern, value, expected] of cases) {
    it(`'${pattern}' ${expected ? 'matches' : 'does not match'} '${value}'`, () => {
      assert.equal(wildcardToRegExp(pattern).test(value), expected);
    });
  }
});
