import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vm } from '@luo-fleet/topology';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { eligibleGpuHostTopology } from '../../../../test/support/eligible-host';
import { InventoryStore } from './inventory-store';

const vm = (id: string, sizeMiB = 1024, devices: string[] = []): Vm => ({ id, devices, memory: { backing: 'memfd-shmem', sizeMiB }, balloon: false, virtioMem: false, migratable: true, labels: { team: 'a' } });

describe('InventoryStore.moveVms (real Redis)', () => {
  let ns: RedisNamespace;
  let inventory: InventoryStore;

  beforeAll(() => {
    ns = redisNamespace('inventory-moves');
    inventory = new InventoryStore(ns.redis, ns.prefix);
  });
  afterAll(async () => ns.drop());

  async function fleet(tag: string): Promise<void> {
    const host = (id: string, vms: Vm[]) => ({ id, labels: { rack: 'r1', zone: 'z1', tag }, driver: { kind: 'simulated' as const }, topology: eligibleGpuHostTopology(), vms });
    await inventory.putMany([host(`${tag}-src`, [vm('vm-a', 2048, ['0000:01:00.0']), vm('vm-b'), vm('vm-c')]), host(`${tag}-t1`, [vm('vm-a')]), host(`${tag}-t2`, [])]);
  }
  const ids = async (host: string) => (await inventory.get(host))!.vms.map((v) => v.id);

  it('lists each moved VM on its target under its fleet-wide name, once, however often it is told', async () => {
    await fleet('m');
    const moves = [
      { vmId: 'vm-a', targetHostId: 'm-t1' },
      { vmId: 'vm-b', targetHostId: 'm-t2' },
    ];
    expect(await inventory.moveVms('m-src', moves)).toBe(2);
    // At-least-once delivery: the same moves again change nothing.
    expect(await inventory.moveVms('m-src', moves)).toBe(0);
    expect(await ids('m-src')).toEqual(['vm-c']);
    expect(await ids('m-t1')).toEqual(['vm-a', 'm-src/vm-a']);
    expect(await ids('m-t2')).toEqual(['m-src/vm-b']);
    // Memory, flags and labels travel in the compact record; passthrough devices stay behind.
    const moved = (await inventory.get('m-t1'))!.vms[1];
    expect(moved).toEqual({ ...vm('m-src/vm-a', 2048), labels: expect.objectContaining({ team: 'a' }) });
    const page = await inventory.list([], { limit: 10 });
    expect(Object.fromEntries(page.hosts.map((h) => [h.id, h.vms]))).toEqual({ 'm-src': 1, 'm-t1': 2, 'm-t2': 1 });
    // Moved on again, it keeps its name; the source left empty lists no VMs.
    expect(await inventory.moveVms('m-t2', [{ vmId: 'm-src/vm-b', targetHostId: 'm-src' }])).toBe(1);
    expect(await ids('m-t2')).toEqual([]);
    expect(await ids('m-src')).toEqual(['vm-c', 'm-src/vm-b']);
  });

  it('moves every VM exactly once when the same evacuation is told from many workers at once', async () => {
    await fleet('c');
    const moves = [
      { vmId: 'vm-a', targetHostId: 'c-t1' },
      { vmId: 'vm-b', targetHostId: 'c-t2' },
      { vmId: 'vm-c', targetHostId: 'c-t1' },
    ];
    const counts = await Promise.all(Array.from({ length: 8 }, (_, i) => inventory.moveVms('c-src', i % 2 === 0 ? moves : moves.slice(1))));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(await ids('c-src')).toEqual([]);
    expect((await ids('c-t1')).sort()).toEqual(['c-src/vm-a', 'c-src/vm-c', 'vm-a']);
    expect(await ids('c-t2')).toEqual(['c-src/vm-b']);
  });
});
