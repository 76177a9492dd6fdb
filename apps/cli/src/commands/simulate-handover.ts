import type { Command } from 'commander';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { buildHandoverPlan, InMemoryHandoverJournal, runHandover, type JournalEntry } from '@luo-fleet/handover';
import { createSimulatedHost, InMemorySimulatedHostStore, parseFaultPlan, SimulatedHostDriver } from '@luo-fleet/simulated-host';
import { generateHost, HOST_KINDS, type HostKind } from '@luo-fleet/topology';
import { CliInputError } from '../input-error';

interface SimulateFlags {
  kind: string;
  fault?: string[];
  kernel: string;
  seed: string;
  latencyScale: string;
  json?: boolean;
}

/**
 * `luo-fleet simulate-handover`: one simulated host through a whole handover, in this process
 * (no Redis), printing its phase timeline: the quickest way to see what each fault does.
 */
export function registerSimulateHandover(program: Command): void {
  program
    .command('simulate-handover')
    .description('run one SIMULATED host through a Live Update handover and print its phase timeline')
    .option('--kind <kind>', `host kind: ${HOST_KINDS.join(', ')}`, 'nvme')
    .option('--fault <name[=value]>', 'inject a fault, e.g. failStep=preserve, rebootReturnsError, neverReturns, panicFallback, retrieveFails (repeatable)', collect, [])
    .option('--kernel <release>', 'target kernel release', '6.18.0-luo')
    .option('--seed <n>', 'seed of the simulated host', '1')
    .option('--latency-scale <x>', 'multiplies the simulated phase latencies (1 = a real host)', '0.02')
    .option('--json', 'print the journal as JSON lines')
    .action(async (flags: SimulateFlags) => {
      if (!(HOST_KINDS as readonly string[]).includes(flags.kind)) throw new CliInputError(`--kind: unknown host kind ${JSON.stringify(flags.kind)} (known: ${HOST_KINDS.join(', ')})`);
      const seed = Number(flags.seed);
      const scale = Number(flags.latencyScale);
      if (!Number.isInteger(seed)) throw new CliInputError('--seed: must be an integer');
      if (!Number.isFinite(scale) || scale < 0) throw new CliInputError('--latency-scale: must be a number >= 0');
      const generated = generateHost(seed, 0, { kind: flags.kind as HostKind });
      const hostId = generated.hostname;
      const set = buildPreservationSet(generated.topology, undefined);
      let faults;
      try {
        faults = parseFaultPlan(Object.fromEntries((flags.fault ?? []).map(parseFault)), '--fault');
      } catch (err) {
        throw new CliInputError((err as Error).message);
      }
      const store = new InMemorySimulatedHostStore();
      await createSimulatedHost(store, { hostId, seed, topology: generated.topology, kernelRelease: '6.12.0-lts', faults });
      const plan = buildHandoverPlan({ hostId, rolloutId: 'cli', targetKernel: flags.kernel, topology: generated.topology, preservationSet: set });
      const journal = new InMemoryHandoverJournal();
      const start = Date.now();
      const outcome = await runHandover(new SimulatedHostDriver(hostId, store, { latencyScale: scale }), journal, plan, {
        bootPollMs: 50,
        bootTimeoutMs: Math.max(2_000, 120_000 * scale),
        sameBootGraceMs: 500,
      });
      const entries = await journal.load(plan.handoverId);
      if (flags.json) {
        for (const e of entries) process.stdout.write(`${JSON.stringify(e)}\n`);
        return;
      }
      process.stdout.write(`simulated host ${hostId} (${flags.kind}), ${set.devices.length} device(s) to preserve: ${set.devices.map((d) => `${d.bdf}${d.preservable ? '' : ` [${d.reasons.join(',')}]`}`).join(' ') || 'none'}\n`);
      for (const e of entries) {
        const line = timelineLine(e, start);
        if (line) process.stdout.write(`${line}\n`);
      }
      const host = await store.load(hostId);
      process.stdout.write(
        `\noutcome: ${outcome.outcome}${outcome.phase ? ` at ${outcome.phase}` : ''}${outcome.reasons.length ? ` [${outcome.reasons.join(',')}]` : ''}` +
          `\nhost now: kernel ${host?.kernelRelease}, boot id ${host?.bootId}, VMs ${host?.vmsRunning ? 'running' : 'not running'}, kexec issued ${host?.calls.kexec ?? 0} time(s)\n`,
      );
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseFault(text: string): [string, unknown] {
  const [name, value] = text.split('=', 2);
  return [name, value === undefined ? true : value];
}

function timelineLine(e: JournalEntry, start: number): string | null {
  const t = `+${((e.at - start) / 1000).toFixed(3).padStart(7)}s`;
  switch (e.type) {
    case 'step_end':
      return `${t}  ${e.step.padEnd(13)} ${e.ok ? 'ok    ' : 'FAILED'} ${String(e.durationMs).padStart(6)} ms${e.reasons?.length ? `  [${e.reasons.join(',')}]` : ''}${e.error ? `  ${e.error}` : ''}`;
    case 'kexec_fence':
      return `${t}  fence         boot id ${e.bootIdBefore} on ${e.kernelBefore} recorded before kexec`;
    case 'rollback_begin':
      return `${t}  rollback      after ${e.phase}${e.error ? `: ${e.error}` : ''}`;
    case 'outcome':
      return `${t}  outcome       ${e.outcome}${e.blackoutMs !== undefined ? ` (blackout ${e.blackoutMs} ms)` : ''}`;
    default:
      return null;
  }
}
