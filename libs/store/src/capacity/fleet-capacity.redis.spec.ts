import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vm } from '@luo-fleet/topology';
import { FleetKeys } from '@luo-fleet/redis';
import type { HostCapacity } from '@luo-fleet/rollout';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { InventoryStore } from '../inventory/inventory-store';
import { compactFinishedRollout } from '../rollout/rollout-retention';
import { FleetCapacity } from './fleet-capacity';

const vm = (id: string, sizeMiB = 1024): Vm => ({ id, devices: [], memory: { backing: 'memfd-shmem', sizeMiB }, balloon: false, virtioMem: false, migratable: true });
const SIZES = new Map([['vm-a', { id: 'vm-a', vcpus: 1, memoryMiB: 1024 }]]);

describe('FleetCapacity: evacuation room across rollouts (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let inventory: InventoryStore;
  let fleet: FleetCapacity;

  beforeAll(() => {
    ns = redisNamespace('fleet-capacity');
    keys = new FleetKeys(ns.prefix);
    inventory = new InventoryStore(ns.redis, ns.prefix);
    fleet = new FleetCapacity(ns.redis, keys);
  });
  afterAll(async () => ns.drop());

  const host = (id: string, rack: string, vms: Vm[], capacity?: HostCapacity) => ({
    id,
    labels: { rack, zone: 'z1' },
    driver: { kind: 'simulated' as const },
    topology: null,
    vms,
    ...(capacity ? { capacity } : {}),
  });
  const one = (target: string) => [{ vmId: 'vm-a', targetHostId: target }];

  it('never overbooks a target however many rollouts reserve on it at once, nor one a rollout holds', async () => {
    await inventory.putMany([host('t-free', 'r1', [vm('own')], { slots: 4 }), host('t-held', 'r1', [], { slots: 8 })]);
    await fleet.claim('r-other', ['t-held']);
    // Twelve evacuations of twelve rollouts, one VM each, into a host with room for three.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => fleet.reserve(`r-${i}`, `src-${i}`, one('t-free'), SIZES)));
    expect(answers.filter((a) => a !== null)).toHaveLength(3);
    expect(await fleet.reserve('r-x', 'src-x', one('t-held'), SIZES)).toBeNull();
    // A resent reservation answers what it holds, and takes nothing more.
    const winner = answers.findIndex((a) => a !== null);
    expect(await fleet.reserve(`r-${winner}`, `src-${winner}`, one('t-free'), SIZES)).toEqual(one('t-free'));
    const { hosts, busy } = await fleet.targets({ targetKernel: 'k2', domainKey: 'rack', limit: 10 });
    expect(hosts.find((h) => h.hostId === 't-free')?.load).toEqual({ vms: 4, vcpus: 4, memoryMiB: 4096 });
    expect([...busy]).toEqual(['t-held']);
    // Its outcome recorded, the held host may take VMs again.
    await fleet.unclaim('r-other', ['t-held']);
    expect(await fleet.reserve('r-x', 'src-x', one('t-held'), SIZES)).toEqual(one('t-held'));
  });

  it('gives the room back once the VMs count on their targets, once', async () => {
    await inventory.putMany([host('g-src', 'r2', [vm('vm-a'), vm('vm-b')]), host('g-t', 'r2', [], { slots: 1 })]);
    expect(await fleet.reserve('r-g', 'g-src', one('g-t'), SIZES)).toEqual(one('g-t'));
    expect(await fleet.reserve('r-h', 'h-src', one('g-t'), SIZES)).toBeNull();
    await inventory.moveVms('g-src', one('g-t'));
    for (let i = 0; i < 2; i++) await fleet.release('r-g', 'g-src');
    expect(await fleet.reserved('r-g', 'g-src')).toBeNull();
    // The moved VM is load now: the host is still full.
    const { hosts } = await fleet.targets({ targetKernel: 'k2', domainKey: 'rack', domain: 'r2', limit: 10 });
    expect(hosts.map((h) => [h.hostId, h.load.vms])).toEqual([['g-t', 1]]);
    expect(await fleet.reserve('r-h', 'h-src', one('g-t'), SIZES)).toBeNull();
  });

  it('looks first at the hosts with the most room, reads a domain whole, and knows who is on the target kernel', async () => {
    const hosts = Array.from({ length: 30 }, (_, i) => host(`l-${String(i).padStart(2, '0')}`, `rk-${i % 3}`, Array.from({ length: i % 10 }, (_, j) => vm(`v${j}`)), { slots: 10 }));
    await inventory.putMany([...hosts, host('l-none', 'rk-0', [])]);
    await fleet.claim('r-k', ['l-00', 'l-03']);
    await fleet.hostEnded('r-k', 'l-00', { outcome: 'updated', kernelRelease: 'k2' });
    await fleet.hostEnded('r-k', 'l-03', { outcome: 'failed' });
    const top = await fleet.targets({ targetKernel: 'k2', domainKey: 'rack', limit: 3 });
    expect(top.hosts.map((h) => h.load.vms)).toEqual([0, 0, 0]);
    const rack = await fleet.targets({ targetKernel: 'k2', domainKey: 'rack', domain: 'rk-0', limit: 3 });
    // Every host of the domain that has a capacity (not l-none), whatever the limit.
    expect(rack.hosts).toHaveLength(10);
    expect(rack.hosts.filter((h) => h.onTargetKernel).map((h) => h.hostId)).toEqual(['l-00']);
    // Updated, it gave its claim back; failed, it keeps it.
    expect([...rack.busy]).toEqual(['l-03']);
    expect(new Set(rack.hosts.map((h) => h.domain))).toEqual(new Set(['rk-0']));
    // Registered again without a capacity, a host leaves the index.
    await inventory.put(host('l-01', 'rk-1', []));
    expect(await ns.redis.zscore(keys.evacuationRoom(), 'l-01')).toBeNull();
    expect(Number(await ns.redis.zscore(keys.evacuationRoom(), 'l-02'))).toBeCloseTo(0.8);
  });

  it('gives back, when a finished rollout is compacted, the claims its workers left (not a failed host\'s)', async () => {
    await inventory.putMany([host('c-1', 'rc', [], { slots: 2 }), host('c-2', 'rc', [], { slots: 2 }), host('c-3', 'rc', [], { slots: 2 })]);
    await fleet.claim('r-c', ['c-1', 'c-2', 'c-3']);
    // Their workers died after the outcomes, before giving the claims back.
    await ns.redis.hset(keys.hostStates('r-c'), { 'c-1': 'updated', 'c-2': 'failed', 'c-3': 'cancelled' });
    await ns.redis.hset(keys.admission('r-c'), { status: 'completed', finishedAt: Date.now() });
    expect((await fleet.targets({ targetKernel: 'k', domainKey: 'rack', domain: 'rc', limit: 10 })).busy.size).toBe(3);
    await compactFinishedRollout(ns.redis, keys, 'r-c');
    expect([...(await fleet.targets({ targetKernel: 'k', domainKey: 'rack', domain: 'rc', limit: 10 })).busy]).toEqual(['c-2']);
  });
});
