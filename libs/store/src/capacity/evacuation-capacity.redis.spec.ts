import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisNamespace, type RedisNamespace } from '../../../../test/support/redis-namespace';
import { FleetKeys } from '@luo-fleet/redis';
import { EvacuationCapacity, type CapacityRecord } from './evacuation-capacity';

describe('EvacuationCapacity.settle (real Redis)', () => {
  let ns: RedisNamespace;
  let keys: FleetKeys;
  let capacity: EvacuationCapacity;

  beforeAll(() => {
    ns = redisNamespace('capacity');
    keys = new FleetKeys(ns.prefix);
    capacity = new EvacuationCapacity(ns.redis, keys);
  });
  afterAll(async () => ns.drop());

  const vms = [
    { id: 'a', vcpus: 2, memoryMiB: 1024 },
    { id: 'b', vcpus: 4, memoryMiB: 2048 },
  ];
  const migrations = [
    { vmId: 'a', targetHostId: 't1' },
    { vmId: 'b', targetHostId: 't1' },
  ];

  /** A source with two VMs and a target with room for four, the target already updated. */
  async function rollout(id: string): Promise<void> {
    const hosts = new Map<string, CapacityRecord>([
      ['src', { used: { vms: 2, vcpus: 6, memoryMiB: 3072 }, domain: 'r1', evacuees: vms, capacity: { slots: 4 } }],
      ['t1', { used: { vms: 1, vcpus: 1, memoryMiB: 512 }, domain: 'r1', capacity: { slots: 4 } }],
    ]);
    await capacity.record(id, hosts);
    await ns.redis.hset(keys.hostStates(id), { src: 'drain', t1: 'updated' });
    expect(await capacity.reserve(id, 'src', migrations, new Map(vms.map((v) => [v.id, v])))).toEqual(migrations);
  }
  const used = async (id: string, host: string) => (JSON.parse((await ns.redis.hget(keys.capacity(id), host))!) as CapacityRecord).used;

  it('gives the reservations back when the evacuation moved no VM, once', async () => {
    await rollout('r-precheck');
    expect(await used('r-precheck', 't1')).toEqual({ vms: 3, vcpus: 7, memoryMiB: 3584 });
    for (let i = 0; i < 2; i++) {
      await capacity.settle('r-precheck', 'src', {});
      expect(await used('r-precheck', 't1')).toEqual({ vms: 1, vcpus: 1, memoryMiB: 512 });
    }
    expect(await capacity.reserved('r-precheck', 'src')).toBeNull();
    expect(await used('r-precheck', 'src')).toEqual({ vms: 2, vcpus: 6, memoryMiB: 3072 });
  });

  it('frees the source when every VM moved, and splits the room of a drain that broke midway', async () => {
    await rollout('r-drained');
    // A reservation made on the source once it ended stays when its own VMs' room is freed, once.
    const raw = JSON.parse((await ns.redis.hget(keys.capacity('r-drained'), 'src'))!) as CapacityRecord;
    raw.used.vms += 1;
    await ns.redis.hset(keys.capacity('r-drained'), 'src', JSON.stringify(raw));
    for (let i = 0; i < 2; i++) {
      await capacity.settle('r-drained', 'src', { migrations });
      expect(await used('r-drained', 'src')).toEqual({ vms: 1, vcpus: 0, memoryMiB: 0 });
    }
    expect(await used('r-drained', 't1')).toEqual({ vms: 3, vcpus: 7, memoryMiB: 3584 });

    // Only vm a moved: it leaves the source's load and keeps its room on t1; b's room on t1 is given back.
    await rollout('r-broken');
    for (let i = 0; i < 2; i++) {
      await capacity.settle('r-broken', 'src', { migrations: migrations.slice(0, 1) });
      expect(await used('r-broken', 'src')).toEqual({ vms: 1, vcpus: 4, memoryMiB: 2048 });
      expect(await used('r-broken', 't1')).toEqual({ vms: 2, vcpus: 3, memoryMiB: 1536 });
    }
  });
});
