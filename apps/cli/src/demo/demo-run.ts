import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliInputError } from '../input-error';
import type { DemoOptions } from './demo-options';
import { DemoInfrastructureError, DemoProcesses } from './demo-processes';
import { chooseDemoRedis, deleteDemoKeys } from './demo-redis';
import { demoRolloutRequest } from './demo-rollout-request';
import { startDemoServices } from './demo-services';
import { followDemoRollout } from './demo-rollout-follow';
import { collectOutcomes, summaryText, type DemoSummary } from './demo-summary';
import { demoVmCensus } from './demo-vm-census';
import { registerSimulatedFleet } from './simulated-fleet';
import { Teardown } from './teardown';

/**
 * `luo-fleet demo`: a whole luo-fleet on this machine (Redis, planner, two workers, metrics
 * exporter), a simulated fleet registered through the HTTP API, and one maintenance window rolled
 * across it with faults injected on purpose. Returns the summary; throws DemoInfrastructureError
 * when something of the demo itself broke (exit 1) and CliInputError when there is no Redis (exit 2).
 */
export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  // With --json, stdout carries only the summary object: everything for people goes to stderr.
  const out = opts.json ? process.stderr : process.stdout;
  const say = (line: string) => out.write(`${line}\n`);
  const tmp = mkdtempSync(join(tmpdir(), 'luo-fleet-demo-'));
  let died: DemoInfrastructureError | null = null;
  let reportDeath: (err: DemoInfrastructureError) => void = () => undefined;
  const childDied = new Promise<never>((_, reject) => (reportDeath = reject));
  childDied.catch(() => undefined); // observed through race() below
  const processes = new DemoProcesses(join(tmp, 'demo.log'), (name, how) => {
    const tail = processes.tail(name);
    died = new DemoInfrastructureError(`${name} exited unexpectedly (${how}); last lines of its log (all of it: ${processes.logFile}):\n${tail || '(nothing)'}`);
    reportDeath(died);
  });
  /** Waits for `step` unless a child dies first. */
  const race = <T>(step: Promise<T>): Promise<T> => Promise.race([step, childDied]);
  const teardown = new Teardown();
  const lastResort = () => processes.killAllNow();
  process.once('exit', lastResort);
  teardown.add('stop the demo processes', async () => {
    await processes.close();
    process.off('exit', lastResort);
  });
  const removeSignalHandlers = teardown.onSignals((line) => process.stderr.write(`${line}\n`));
  try {
    const redis = await chooseDemoRedis(processes, tmp).catch((err: unknown) => {
      if (err instanceof CliInputError) rmSync(tmp, { recursive: true, force: true }); // nothing ran: no log to keep
      throw err;
    });
    say(`luo-fleet demo: ${opts.hosts} simulated host${opts.hosts === 1 ? '' : 's'}, seed ${opts.seed}, simulated latency scale ${opts.latencyScale}`);
    say(`Logs of every process: ${processes.logFile}`);
    say(`Redis: ${redis.description}`);
    if (redis.sharedWithFreshPrefix) {
      teardown.add(`delete the demo's keys (${redis.prefix}:*)`, async () => void (await deleteDemoKeys(redis)));
    }
    const started = Date.now();
    const services = await race(startDemoServices(processes, redis, { latencyScale: opts.latencyScale, gaveUp: () => died !== null }));
    teardown.add('stop the planner, workers and metrics', () => processes.stop(services.names));
    say(`Started planner ${services.plannerUrl}, 2 workers, metrics ${services.metricsUrl} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const registering = Date.now();
    const fleet = await race(registerSimulatedFleet(services.planner, opts.hosts, opts.seed, () => undefined));
    const kindText = Object.entries(fleet.kinds).map(([k, n]) => `${n} ${k}`).join(', ');
    say(`Registered ${opts.hosts} simulated hosts (${kindText}) through POST /v1/hosts:batch in ${((Date.now() - registering) / 1000).toFixed(1)} s`);

    const t0 = Date.now();
    const created = await race(services.planner.createRollout(demoRolloutRequest(opts.seed)));
    const { rollout, plan } = created;
    say(
      `Maintenance window ${rollout.id}: ${plan.eligible} hosts to update, ${plan.skipped} skipped by the plan; ` +
        `at most ${rollout.limits.maxConcurrent} at once, 4 per rack, batches ${rollout.limits.batches.join(', ')}, failure budget ${rollout.limits.maxFailures}`,
    );
    const final = await race(followDemoRollout(services.planner, rollout.id, { out, teardown, gaveUp: () => died !== null }));

    const outcomes = await race(collectOutcomes(services.planner, final));
    const vmCensus = await race(demoVmCensus(redis, fleet.hosts));
    const summary: DemoSummary = {
      rolloutId: rollout.id,
      status: final.status,
      statusReason: final.statusReason,
      hosts: final.hostCount,
      ...outcomes,
      vms: final.vms,
      targetKernel: rollout.spec.targetKernel,
      ...(final.hostsByStrategy ? { hostsByStrategy: final.hostsByStrategy } : {}),
      vmDisruptions: final.vmDisruptions,
      vmCensus,
      makespanSeconds: ((final.finishedAt ?? Date.now()) - t0) / 1000,
      docsUrl: `${services.plannerUrl}/docs`,
      metricsUrl: `${services.metricsUrl}/metrics`,
      logFile: processes.logFile,
      latencyScale: opts.latencyScale,
      seed: opts.seed,
      redis: { url: redis.url.replace(/\/\/[^@/]*@/, '//'), prefix: redis.prefix }, // never print a password
    };
    say(summaryText(summary, opts.keepRunning));
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (opts.keepRunning) {
      removeSignalHandlers();
      await race(untilInterrupted());
      say('Stopping...');
    }
    return summary;
  } finally {
    removeSignalHandlers();
    await teardown.run((line) => process.stderr.write(`${line}\n`));
  }
}

/** Resolves on the first Ctrl-C (or SIGTERM): the normal end of --keep-running. */
function untilInterrupted(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
