import type { ChaosReport } from './chaos-run';

/** The run's figures and each check, one line each, for a terminal or a CI log. */
export function formatReport(r: ChaosReport): string {
  const o = r.options;
  const lines = [
    '',
    `chaos seed ${o.seed}${o.ci ? ' (ci)' : ''}${o.budgetTest ? ' (budget test)' : ''}: ${r.hosts} hosts (${r.eligible} eligible), ${o.workers} workers, latency scale ${o.latencyScale}`,
    `rollout ${r.rolloutId}: ${r.status}; maxConcurrent ${r.maxConcurrent}, maxFailures ${r.maxFailures}`,
    `outcomes (orchestrator): ${Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `outcomes (hosts' own records): ${Object.entries(r.truths).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `makespan ${(r.makespanMs / 1000).toFixed(1)} s; max in flight ${r.maxInFlight} over ${r.samples} samples`,
    `disruptions: ${Object.entries(r.disruptions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
  ];
  for (const c of r.checks) {
    lines.push(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
    for (const e of c.examples) lines.push(`        ${e}`);
  }
  lines.push('', r.ok ? 'all checks passed' : `CHECKS FAILED (child output kept in ${r.logFile})`);
  return lines.join('\n');
}
