/**
 * `evacuation-targets`: what placing one evacuation costs in a 100,000-host inventory where every
 * host has a capacity: read the candidates (FleetCapacity.targets: the hosts with most room from
 * the room index, or a whole rack with `sameDomain`), choose (chooseEvacuationTargets) and reserve
 * (one script), then give the room back. Reports wall time per placement (p50, p99), Redis CPU per
 * placement and how many hosts each reads. Target: p99 under 50 ms and under 5 ms of Redis CPU per
 * placement, whatever the inventory's size (no full scan).
 */
import { performance } from 'node:perf_hooks';
import { FleetKeys } from '@luo-fleet/redis';
import type { Vm } from '@luo-fleet/topology';
import { chooseEvacuationTargets, type EvacuatedVm } from '@luo-fleet/rollout';
import { FleetCapacity, InventoryStore } from '@luo-fleet/store';
import { TARGET_CANDIDATES } from '../../apps/worker/src/rollout/evacuation-placement';
import { benchNamespace, percentile, redisCpuSeconds } from './bench-redis';

export const name = 'evacuation-targets';

const HOSTS = Number(process.env.BENCH_EVAC_HOSTS ?? 100_000);
const RACKS = 2_500;
const PLACEMENTS = 300;
const VMS_PER_EVACUATION = 8;
const P99_TARGET_MS = 50;
const REDIS_CPU_TARGET_MS = 5;

const vm = (id: string, sizeMiB: number): Vm => ({ id, devices: [], memory: { backing: 'memfd-shmem', sizeMiB }, balloon: false, virtioMem: false, migratable: true });

export async function run(): Promise<void> {
  const ns = benchNamespace('evac');
  const keys = new FleetKeys(ns.prefix);
  const inventory = new InventoryStore(ns.redis, ns.prefix);
  const fleet = new FleetCapacity(ns.redis, keys);
  try {
    const t0 = performance.now();
    for (let i = 0; i < HOSTS; i += 1_000) {
      await inventory.putMany(
        Array.from({ length: Math.min(1_000, HOSTS - i) }, (_, j) => {
          const n = i + j;
          return {
            id: `hv-${String(n).padStart(6, '0')}`,
            labels: { rack: `rack-${n % RACKS}`, zone: `zone-${n % 4}` },
            driver: { kind: 'simulated' as const },
            topology: null,
            vms: Array.from({ length: n % 11 }, (_, v) => vm(`vm-${v}`, 2048 + 1024 * (v % 4))),
            capacity: { slots: 12 },
          };
        }),
      );
    }
    console.log(`inventory of ${HOSTS.toLocaleString('en-US')} hosts with capacity registered in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // What reading every host as a candidate would cost each evacuation (the scan the index avoids).
    const scan = performance.now();
    const scanCpu = await redisCpuSeconds(ns.redis);
    const all = await fleet.targets({ targetKernel: 'k', domainKey: 'rack', limit: HOSTS });
    console.log(
      `for comparison, one read of all ${all.hosts.length.toLocaleString('en-US')} candidates: ${(performance.now() - scan).toFixed(0)} ms, ` +
        `Redis CPU ${(((await redisCpuSeconds(ns.redis)) - scanCpu) * 1000).toFixed(0)} ms`,
    );
    for (const sameDomain of [false, true]) {
      const times: number[] = [];
      let read = 0;
      let placed = 0;
      const cpuBefore = await redisCpuSeconds(ns.redis);
      for (let p = 0; p < PLACEMENTS; p++) {
        const source = `src-${sameDomain ? 'd' : 'a'}-${p}`;
        const domain = `rack-${(p * 7) % RACKS}`;
        const vms: EvacuatedVm[] = Array.from({ length: VMS_PER_EVACUATION }, (_, v) => ({ id: `vm-${v}`, vcpus: 1, memoryMiB: 4096 }));
        const t = performance.now();
        const { hosts, busy } = await fleet.targets({ targetKernel: 'k', domainKey: 'rack', ...(sameDomain ? { domain } : {}), limit: TARGET_CANDIDATES + vms.length });
        read += hosts.length;
        const choice = chooseEvacuationTargets({ source: { hostId: source, domain, vms }, hosts, busy, reservations: [], sameDomain });
        if (choice.kind === 'targets' && (await fleet.reserve('bench', source, choice.migrations, new Map(vms.map((v) => [v.id, v])))) !== null) placed++;
        times.push(performance.now() - t);
        await fleet.release('bench', source);
      }
      const cpuMs = (((await redisCpuSeconds(ns.redis)) - cpuBefore) * 1000) / PLACEMENTS;
      times.sort((a, b) => a - b);
      const p99 = percentile(times, 0.99);
      const label = sameDomain ? 'same rack' : 'any host';
      console.log(
        `${label}: ${placed}/${PLACEMENTS} placed, ${Math.round(read / PLACEMENTS)} hosts read per placement; ` +
          `p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms ${p99 < P99_TARGET_MS ? 'PASS' : 'MISS'} (target ${P99_TARGET_MS} ms); ` +
          `Redis CPU ${cpuMs.toFixed(2)} ms per placement (with its release) ${cpuMs < REDIS_CPU_TARGET_MS ? 'PASS' : 'MISS'} (target ${REDIS_CPU_TARGET_MS} ms)`,
      );
    }
  } finally {
    await ns.drop();
  }
}
