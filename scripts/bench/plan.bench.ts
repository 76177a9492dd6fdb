/**
 * `plan`: PreservationSet throughput over a generated fleet of 100,000 hosts x 32 devices, for the
 * default profile and strict ACS, counting one verdict per device judged. Target: 1,000,000/s.
 */
import { availableParallelism, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildPreservationSet } from '@luo-fleet/preservation';
import { type Bdf, generateFleet, type HostTopology } from '@luo-fleet/topology';

export const name = 'plan';

const HOSTS = Number(process.env.PLAN_BENCH_HOSTS ?? 100_000);
const DEVICES = 32;
const SEED = 20260401;
const TARGET = 1_000_000;

interface Peak {
  rss: number;
  heapUsed: number;
}

function sampleMemory(peak: Peak): void {
  const m = process.memoryUsage();
  if (m.rss > peak.rss) peak.rss = m.rss;
  if (m.heapUsed > peak.heapUsed) peak.heapUsed = m.heapUsed;
}

function timePlans(
  hosts: HostTopology[],
  requests: Array<Bdf[] | undefined>,
  strictAcs: boolean,
  peak: Peak,
): { verdicts: number; seconds: number; cpuSeconds: number; preservable: number } {
  let verdicts = 0;
  let preservable = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < hosts.length; i++) {
    const set = buildPreservationSet(hosts[i], requests[i], { strictAcs });
    verdicts += set.summary.requested;
    preservable += set.summary.preservable;
    if ((i & 0x3fff) === 0) sampleMemory(peak);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { verdicts, seconds, cpuSeconds: cpuSince(cpuStart), preservable };
}

/** A full GC between timed runs, so one run does not pay for the garbage of the previous step. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** CPU seconds (user + system) since `start`: what one core spent, even when the machine is shared. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function rate(count: number, seconds: number): string {
  return Math.round(count / seconds).toLocaleString('en-US');
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

export async function run(): Promise<void> {
  const peak: Peak = { rss: 0, heapUsed: 0 };
  const genCpu = process.cpuUsage();
  const genStart = process.hrtime.bigint();
  const hosts: HostTopology[] = new Array(HOSTS);
  let i = 0;
  for (const host of generateFleet(HOSTS, SEED, { devices: DEVICES })) {
    hosts[i++] = host.topology;
    if ((i & 0x3fff) === 0) sampleMemory(peak);
  }
  const genSeconds = Number(process.hrtime.bigint() - genStart) / 1e9;
  const genCpuSeconds = cpuSince(genCpu);
  sampleMemory(peak);
  console.log(
    `generate: ${HOSTS} hosts x ${DEVICES} devices in ${genSeconds.toFixed(2)} s wall, ${genCpuSeconds.toFixed(2)} s CPU ` +
      `(${rate(HOSTS, genSeconds)} hosts/s wall)`,
  );

  const everyDevice = hosts.map((t) => t.devices.map((d) => d.bdf));
  const vfioOnly = hosts.map(() => undefined);
  // Warm-up on a slice so the timed runs measure compiled code, as a long-lived planner would.
  for (const strict of [false, true]) timePlans(hosts.slice(0, 2000), everyDevice.slice(0, 2000), strict, peak);

  const rows: Array<[string, Bdf[][] | undefined[], boolean]> = [
    ['default, every device', everyDevice, false],
    ['strict,  every device', everyDevice, true],
    ['default, vfio-pci only', vfioOnly, false],
    ['strict,  vfio-pci only', vfioOnly, true],
  ];
  for (const [label, requests, strict] of rows) {
    collectGarbage();
    const r = timePlans(hosts, requests, strict, peak);
    const verdict = (seconds: number) => (r.verdicts / seconds >= TARGET ? 'PASS' : 'MISS');
    console.log(
      `plan ${label}: ${r.verdicts} verdicts (${r.preservable} preservable); ` +
        `wall ${r.seconds.toFixed(2)} s = ${rate(r.verdicts, r.seconds)}/s ${verdict(r.seconds)}; ` +
        `CPU ${r.cpuSeconds.toFixed(2)} s = ${rate(r.verdicts, r.cpuSeconds)}/s ${verdict(r.cpuSeconds)} ` +
        `(target ${TARGET.toLocaleString('en-US')}/s)`,
    );
  }
  sampleMemory(peak);
  console.log(`load average: ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores (wall figures suffer when > 1)`);
  console.log(`memory: peak RSS ${mib(peak.rss)}, peak heap used ${mib(peak.heapUsed)} (sampled every 16384 hosts)`);
}
