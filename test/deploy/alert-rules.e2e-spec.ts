import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const RULES = join(ROOT, 'deploy', 'prometheus', 'maskline-alerts.yaml');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every metric the code registers (`metrics.counter|gauge|histogram('name', 'help', ['labels'])`), with its labels. */
function metricsInCode(): Map<string, { type: string; labels: string[] }> {
  const found = new Map<string, { type: string; labels: string[] }>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.includes('spec')) {
        const source = readFileSync(path, 'utf8');
        const re =
          /\.(counter|gauge|histogram)\(\s*'(maskline_[a-z_]+)',\s*(?:'[^']*'|`[^`]*`)(?:\s*,\s*\[([^\]]*)\])?/g;
        for (const m of source.matchAll(re)) {
          const labels = [...(m[3] ?? '').matchAll(/'([a-z_]+)'/g)].map((l) => l[1]);
          found.set(m[2], { type: m[1], labels: [...labels, 'service'] });
        }
      }
    }
  };
  walk(join(ROOT, 'services'));
  walk(join(ROOT, 'libs'));
  return found;
}

/** The series a metric exposes: a histogram's buckets, sum and count. */
function seriesOf(metrics: Map<string, { type: string; labels: string[] }>) {
  const series = new Map<string, string[]>();
  for (const [name, m] of metrics) {
    if (m.type === 'histogram') {
      series.set(`${name}_bucket`, [...m.labels, 'le']);
      series.set(`${name}_sum`, m.labels);
      series.set(`${name}_count`, m.labels);
    } else series.set(name, m.labels);
  }
  return series;
}

/** Syntax errors, and each selector's metric with the labels it matches on. */
function analyse(expr: string) {
  const tree = parser.parse(expr);
  const errors: number[] = [];
  const selectors: Array<{ metric: string; labels: string[] }> = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const text = expr.slice(node.from, node.to);
        const metric = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text)?.[0] ?? '';
        const labels = [
          ...text.slice(metric.length).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g),
        ].map((l) => l[1]);
        selectors.push({ metric, labels });
      }
    },
  });
  return { errors, selectors };
}

describe('Prometheus alert rules (deploy/prometheus)', () => {
  const doc = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
  const rules = doc.groups.flatMap((g) => g.rules);
  const series = seriesOf(metricsInCode());

  it('finds the metrics the code registers (so the checks below check something)', () => {
    expect(series.get('maskline_callback_attempts_total')).toEqual(['outcome', 'service']);
    expect(series.get('maskline_consumer_pending_messages')).toEqual(['consumer', 'service']);
    expect(series.has('maskline_pool_allocation_seconds_bucket')).toBe(true);
  });

  it('is a rule file Prometheus loads: groups of named alerts with unique names, severities and summaries', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Maskline[A-Z][A-Za-z]+$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
      // No link out of the repository, and no secret, in what the alert says.
      expect(JSON.stringify(rule.annotations)).not.toMatch(/https?:\/\//);
    }
  });

  it.each(rules.map((r) => [r.alert, r.expr] as const))(
    '%s: parses as PromQL and uses only metrics and labels the code defines',
    (_name, expr) => {
      const { errors, selectors } = analyse(expr);
      expect(errors).toEqual([]);
      expect(selectors.length).toBeGreaterThan(0);
      for (const s of selectors) {
        expect(series.has(s.metric) ? s.metric : `unknown metric ${s.metric}`).toBe(s.metric);
        for (const label of s.labels) expect(series.get(s.metric)).toContain(label);
      }
    },
  );

  it('catches a broken expression and an unknown metric (the checks can fail)', () => {
    expect(analyse('sum(rate(maskline_callback_attempts_total[5m]) by').errors.length).toBeGreaterThan(0);
    expect(series.has(analyse('maskline_no_such_metric > 0').selectors[0]!.metric)).toBe(false);
  });

  it('covers pool exhaustion, callback failures, consumer lag, open breakers and PIN brute force', () => {
    const used = new Set(rules.flatMap((r) => analyse(r.expr).selectors.map((s) => s.metric)));
    for (const metric of [
      'maskline_pool_exhausted_total',
      'maskline_callback_attempts_total',
      'maskline_consumer_pending_messages',
      'maskline_breaker_state',
      'maskline_pin_lockouts_total',
    ]) {
      expect(used).toContain(metric);
    }
  });
});
