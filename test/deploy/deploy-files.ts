import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';

export const REPO = resolve(__dirname, '../..');
export const DASHBOARDS_DIR = join(REPO, 'deploy/grafana/dashboards');
export const RULES_FILE = join(REPO, 'deploy/prometheus/rules/luo-fleet.rules.yml');

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

interface Panel {
  id: number;
  title: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export function dashboards(): { file: string; json: { uid: string; panels: Panel[] } }[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) }));
}

/** Panels, rows' nested panels included. */
export function panelsOf(d: { panels: Panel[] }): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function dashboardQueries(): DashboardQuery[] {
  return dashboards().flatMap(({ file, json }) =>
    panelsOf(json).flatMap((p) => (p.targets ?? []).filter((t) => t.expr).map((t) => ({ dashboard: file, panel: p.title, expr: t.expr! }))),
  );
}

export function alertRules(): { alert: string; expr: string }[] {
  const doc = load(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** Grafana's variables, as the dashboards use them, made plain PromQL for Prometheus' API. */
export function asPromQL(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$rollout', '.*');
}

export function metricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/\bluo_fleet_[a-z0-9_]+/g) ?? [])];
}
