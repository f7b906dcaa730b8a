/**
 * The Grafana dashboard and the Prometheus rules in deploy/ use only metrics the forwarder exports (as
 * docs/operations.md lists them), and the dashboard is laid out soundly: unique panel ids, panels that do not
 * overlap, a query and a datasource on every target. promtool checks the rules themselves
 * (deploy/prometheus-rules.test.yml).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../support/paths.js';

const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');
const operations = read('docs/operations.md');

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { readonly uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
}

const dashboard = JSON.parse(read('deploy/grafana-dashboard.json')) as {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string }[] };
};
const rules = read('deploy/prometheus-rules.yml');

/** Metric names in PromQL text, without the series suffixes of a histogram. */
function metricNames(text: string): Set<string> {
  const names = text.match(/\b(forwarder|process|nodejs)_[a-z0-9_]+/g) ?? [];
  return new Set(names.map((name) => name.replace(/_(bucket|sum|count)$/, '')));
}

/** Whether docs/operations.md documents the metric (EPICS client counters by their figure's name). */
function documented(name: string): boolean {
  const client = /^forwarder_(ca|pva)_([a-z_]+)_total$/.exec(name);
  if (client) return operations.includes(`\`${client[2]}\``);
  return new RegExp(`\`${name}(\\{|\`)`).test(operations);
}

describe('deploy/: Grafana dashboard and Prometheus rules', () => {
  it('query only metrics the forwarder exports', () => {
    const expressions = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => target.expr),
    );
    const used = metricNames([...expressions, rules].join('\n'));
    assert.ok(used.size > 20, `${used.size} metrics`);
    assert.deepEqual(
      [...used].filter((name) => !documented(name)),
      [],
      'metrics not in docs/operations.md',
    );
  });

  it('has one id per panel, panels that do not overlap, and a query and datasource on every target', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length);
    const cells = new Set<string>();
    for (const { gridPos, title } of dashboard.panels) {
      assert.ok(gridPos.x >= 0 && gridPos.x + gridPos.w <= 24, `${title} within the 24 columns`);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `${title} overlaps another panel at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
      }
    }
    const variables = dashboard.templating.list.map((variable) => variable.name);
    assert.deepEqual(variables, ['datasource', 'instance']);
    for (const panel of dashboard.panels.filter((each) => each.type !== 'row')) {
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
      for (const target of panel.targets ?? []) {
        assert.equal(target.datasource?.uid, '${datasource}', `${panel.title} ${target.refId}`);
        assert.match(
          target.expr,
          /instance=~"\$instance"/,
          `${panel.title} ${target.refId} follows the choice`,
        );
      }
    }
  });
});
