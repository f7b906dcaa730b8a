/**
 * The source's layers (README, "Layout"): each folder of src/ imports only from folders of lower layers, the two
 * EPICS protocols only from what they share, and no file imports itself back through others.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/paths.js';

/** Layers from the bottom; a folder may import from folders of lower layers only. */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['logging'],
  ['model'],
  ['epics', 'schemas'],
  ['streams'],
  ['forwarding'],
  ['kafka'],
  ['status', 'storage', 'group', 'spool'],
  ['observability', 'option-values'],
  ['cli', 'ctl'],
];

/** Inside src/epics: what each part may import (besides its own files). */
const EPICS_PARTS: Readonly<Record<string, readonly string[]>> = {
  common: [],
  ca: ['common'],
  pva: ['common'],
  fake: ['common'],
};

const src = join(repoRoot, 'src');

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The files of src/ a file imports (type-only imports too: they tie the layers as much). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g)].map((match) =>
    resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts')),
  );
}

const graph = new Map(sourceFiles(src).map((file) => [file, importsOf(file)]));
const folderOf = (file: string): string => relative(src, file).split('/')[0] as string;
const rankOf = (folder: string): number => LAYERS.findIndex((layer) => layer.includes(folder));
const name = (file: string): string => relative(repoRoot, file);

describe('source layers', () => {
  it('gives every folder of src/ a layer', () => {
    const folders = new Set([...graph.keys()].map(folderOf));
    for (const folder of folders) assert.notEqual(rankOf(folder), -1, `src/${folder} has no layer`);
  });

  it('imports only from lower layers', () => {
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        const from = folderOf(file);
        const to = folderOf(target);
        if (from !== to && rankOf(to) >= rankOf(from)) upward.push(`${name(file)} -> ${name(target)}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('keeps the EPICS protocols apart: each imports only what they share', () => {
    const crossing: string[] = [];
    const partOf = (file: string): string | undefined => {
      const parts = relative(join(src, 'epics'), file).split('/');
      return parts.length > 1 ? parts[0] : undefined;
    };
    for (const [file, imports] of graph) {
      const from = partOf(file);
      if (folderOf(file) !== 'epics' || from === undefined) continue;
      for (const target of imports) {
        const to = partOf(target);
        if (folderOf(target) !== 'epics' || to === undefined || to === from) continue;
        if (!(EPICS_PARTS[from] ?? []).includes(to)) crossing.push(`${name(file)} -> ${name(target)}`);
      }
    }
    assert.deepEqual(crossing, []);
  });

  it('has no import cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: readonly string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) if (graph.has(target)) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });
});
