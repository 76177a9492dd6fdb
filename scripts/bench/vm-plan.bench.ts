/**
 * `vm-plan`: whole-host planning with VMs over a generated fleet of 100,000 hosts x 32 devices x
 * 8 VMs: every device judged, then every VM, as the planner plans a host from its inventory record.
 * Hosts are generated and planned a chunk at a time and dropped, so the fleet is never held whole.
 * Rates are over the CPU time of the planning calls alone, so a shared machine slows the wall
 * figures but not the verdict. Targets: 2,000,000 device verdicts/s and 500,000 VM verdicts/s on
 * one core, peak RSS under 2 GiB.
 */
import { availableParallelism, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildPreservationSet, type PreservationSet } from '@luo-fleet/preservation';
import { type Bdf, generateFleet, type GeneratedHost } from '@luo-fleet/topology';

export const name = 'vm-plan';

const HOSTS = Number(process.env.VM_PLAN_BENCH_HOSTS ?? 100_000);
const DEVICES = 32;
const VMS = 8;
const CHUNK = 2_000;
const SEED = 20260401;
const DEVICE_TARGET = 2_000_000;
const VM_TARGET = 500_000;
const PEAK_TARGET = 2 * 1024 ** 3;

interface Totals {
  devices: number;
  vms: number;
  preservableVms: number;
  cpuSeconds: number;
  wallSeconds: number;
  peakRss: number;
}

/**
 * Two young-generation GCs before each timed chunk: they free the generator's short-lived garbage
 * and move the chunk's hosts to the old generation, so the planner pays for neither. Not a full GC:
 * that also drops compiled code whose object shapes (a class's instances) are all dead at that
 * moment, so every chunk would pay for compiling the planner again, which a long-lived planner
 * does once; and its sweeping of the old generation runs on into the timed chunk.
 */
const collectGeneratorGarbage = (() => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  return () => {
    gc({ type: 'minor' });
    gc({ type: 'minor' });
  };
})();

function planChunk(chunk: GeneratedHost[], requests: Bdf[][], totals: Totals): void {
  totals.peakRss = Math.max(totals.peakRss, process.memoryUsage().rss);
  collectGeneratorGarbage();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let set: PreservationSet | undefined;
  for (let i = 0; i < chunk.length; i++) {
    set = buildPreservationSet(chunk[i].topology, requests[i], { vms: chunk[i].vms });
    totals.devices += set.summary.requested;
    totals.vms += set.summary.vms!.total;
    totals.preservableVms += set.summary.vms!.preservable;
  }
  totals.wallSeconds += Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  totals.cpuSeconds += (used.user + used.system) / 1e6;
  totals.peakRss = Math.max(totals.peakRss, process.memoryUsage().rss);
}

function rate(count: number, seconds: number): string {
  return Math.round(count / seconds).toLocaleString('en-US');
}

function line(label: string, count: number, t: Totals, target: number): string {
  const pass = (seconds: number) => (count / seconds >= target ? 'PASS' : 'MISS');
  return (
    `${label}: ${count} verdicts; CPU ${t.cpuSeconds.toFixed(2)} s = ${rate(count, t.cpuSeconds)}/s ${pass(t.cpuSeconds)}; ` +
    `wall ${t.wallSeconds.toFixed(2)} s = ${rate(count, t.wallSeconds)}/s ${pass(t.wallSeconds)} (target ${target.toLocaleString('en-US')}/s)`
  );
}

export async function run(): Promise<void> {
  const totals: Totals = { devices: 0, vms: 0, preservableVms: 0, cpuSeconds: 0, wallSeconds: 0, peakRss: 0 };
  // Warm-up on hosts of another seed, so the timed run measures compiled code as a long-lived planner would.
  const warm = [...generateFleet(CHUNK, SEED + 1, { devices: DEVICES, vms: VMS })];
  planChunk(warm, warm.map((h) => h.topology.devices.map((d) => d.bdf)), { ...totals });

  const genStart = process.hrtime.bigint();
  let chunk: GeneratedHost[] = [];
  for (const host of generateFleet(HOSTS, SEED, { devices: DEVICES, vms: VMS })) {
    chunk.push(host);
    if (chunk.length === CHUNK) {
      planChunk(chunk, chunk.map((h) => h.topology.devices.map((d) => d.bdf)), totals);
      chunk = [];
    }
  }
  if (chunk.length > 0) planChunk(chunk, chunk.map((h) => h.topology.devices.map((d) => d.bdf)), totals);
  const allSeconds = Number(process.hrtime.bigint() - genStart) / 1e9;

  console.log(`hosts: ${HOSTS} x ${DEVICES} devices x ${VMS} VMs, generated and planned ${CHUNK} at a time in ${allSeconds.toFixed(1)} s wall`);
  console.log(line('plan devices (every device)', totals.devices, totals, DEVICE_TARGET));
  console.log(line(`plan VMs (${totals.preservableVms} preservable)`, totals.vms, totals, VM_TARGET));
  const peak = totals.peakRss;
  console.log(`memory: peak RSS ${(peak / 1048576).toFixed(0)} MiB ${peak < PEAK_TARGET ? 'PASS' : 'MISS'} (target < 2048 MiB, sampled every ${CHUNK} hosts)`);
  console.log(`load average: ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores (wall figures suffer when > 1)`);
}
