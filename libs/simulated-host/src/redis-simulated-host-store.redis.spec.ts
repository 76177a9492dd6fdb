import IORedis, { Command } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedHost } from './create-simulated-host';
import { RedisSimulatedHostStore } from './redis-simulated-host-store';
import { SimulatedHostDriver } from './simulated-host-driver';
import { SimulatedHostNotFoundError, SimulatedHostRecordError } from './simulated-host-store';
import type { SimulatedHostState } from './simulated-host-state';
import { contextFor, GPU_A, NEW_KERNEL, OLD_KERNEL, preservationSetOf, twoGpuHost } from './test-topology.fixture';
import { TEST_REDIS_URL } from '../../../test/support/redis-namespace';
import { countScriptRuns } from '../../../test/support/script-runs';
import { FleetKeys } from '@luo-fleet/redis';

const PREFIX = `test-sim-${process.pid}-${Date.now().toString(36)}`;
const keys = new FleetKeys(PREFIX);

describe('RedisSimulatedHostStore (real Redis)', () => {
  let a: IORedis;
  let b: IORedis;

  beforeAll(() => {
    a = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    b = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    const keys = await a.keys(`${PREFIX}:*`);
    if (keys.length > 0) await a.del(...keys);
    a.disconnect();
    b.disconnect();
  });

  const spec = (hostId: string) => ({ hostId, seed: 1, topology: twoGpuHost(), kernelRelease: OLD_KERNEL });

  it('keeps one hash per host under the prefix (record and topology apart), and lists the hosts', async () => {
    const store = new RedisSimulatedHostStore(a, PREFIX);
    await createSimulatedHost(store, spec('hv-1'));
    await createSimulatedHost(store, spec('hv-2'));
    const raw = await a.hgetall(keys.simulatedHost('hv-1'));
    expect(raw.version).toBe('0');
    expect(JSON.parse(raw.state)).toMatchObject({ hostId: 'hv-1', kernelRelease: OLD_KERNEL, version: 0 });
    expect(JSON.parse(raw.topology)).toEqual(twoGpuHost());
    expect(await store.loadWithTopology('hv-1')).toMatchObject({ state: { hostId: 'hv-1' }, topology: twoGpuHost() });
    // Creating it again leaves it as it was, and answers with what is stored.
    const again = await createSimulatedHost(new RedisSimulatedHostStore(b, PREFIX), { ...spec('hv-1'), kernelRelease: 'other' });
    expect(again.kernelRelease).toBe(OLD_KERNEL);
    expect((await store.load('hv-1'))!.kernelRelease).toBe(OLD_KERNEL);
    expect(await store.list()).toEqual(['hv-1', 'hv-2']);
    expect(await store.load('hv-3')).toBeNull();
  });

  it('does not lose an increment when two clients update one host at once', async () => {
    const one = new RedisSimulatedHostStore(a, PREFIX);
    const two = new RedisSimulatedHostStore(b, PREFIX);
    await createSimulatedHost(one, spec('hv-race'));
    const bump = (store: RedisSimulatedHostStore) =>
      store.update('hv-race', (s) => {
        s.calls.freeze = (s.calls.freeze ?? 0) + 1;
        return s;
      });
    await Promise.all(Array.from({ length: 60 }, (_, i) => bump(i % 2 === 0 ? one : two)));
    const s = (await two.load('hv-race'))!;
    expect(s.calls.freeze).toBe(60);
    expect(s.version).toBe(60);
  });

  it('applies a change once when the client sends it twice (its answer lost to a dropped connection)', async () => {
    const bump = (s: SimulatedHostState) => {
      s.calls.freeze = (s.calls.freeze ?? 0) + 1;
      return s;
    };
    const plain = new RedisSimulatedHostStore(a, PREFIX);
    await createSimulatedHost(plain, spec('hv-resend'));
    await plain.update('hv-resend', bump); // loads the script, so the resent call below is a real EVALSHA
    // What ioredis does after a reconnect: the same command again, and only the second answer is seen.
    const resending = {
      isCluster: false,
      hmget: (...args: Parameters<IORedis['hmget']>) => a.hmget(...args),
      eval: (...args: Parameters<IORedis['eval']>) => a.eval(...args),
      sendCommand: async (command: Command) => {
        await a.sendCommand(new Command(command.name, [...command.args], { replyEncoding: 'utf8' }));
        return a.sendCommand(command);
      },
    } as unknown as IORedis;
    await new RedisSimulatedHostStore(resending, PREFIX).update('hv-resend', bump);
    const s = (await new RedisSimulatedHostStore(b, PREFIX).load('hv-resend'))!;
    expect(s.calls.freeze).toBe(2);
    expect(s.version).toBe(2);
  });

  it('names the host or key it cannot use', async () => {
    const store = new RedisSimulatedHostStore(a, PREFIX);
    await expect(store.update('hv-none', (s) => s)).rejects.toBeInstanceOf(SimulatedHostNotFoundError);
    await a.hset(keys.simulatedHost('hv-bad'), 'version', '0', 'state', 'not json', 'topology', '{}');
    await expect(store.load('hv-bad')).rejects.toThrow(SimulatedHostRecordError);
    await expect(store.load('hv-bad')).rejects.toThrow(`redis key ${keys.simulatedHost('hv-bad')} field state: not JSON`);
    await expect(store.loadWithTopology('hv-bad')).rejects.toThrow(`redis key ${keys.simulatedHost('hv-bad')} field state: not JSON`);
    await a.set(keys.simulatedHost('hv-str'), '{"hostId":"hv-str"}');
    await expect(store.load('hv-str')).rejects.toThrow(`redis key ${keys.simulatedHost('hv-str')}: not a hash`);
    await expect(store.update('hv-str', (s) => s)).rejects.toThrow(`redis key ${keys.simulatedHost('hv-str')}: not a hash`);
  });

  it('sends one turn\'s reads and changes of many hosts as one script run, each answered on its own', async () => {
    const store = new RedisSimulatedHostStore(a, PREFIX);
    await createSimulatedHost(store, spec('hv-t1'));
    await createSimulatedHost(store, spec('hv-t2'));
    await a.set(keys.simulatedHost('hv-tstr'), 'not a hash');
    const scripts = countScriptRuns(a);
    try {
      const results = await Promise.allSettled([
        store.update('hv-t1', (s) => ({ ...s, calls: { ...s.calls, freeze: 1 } })),
        store.loadWithTopology('hv-t2'),
        store.load('hv-tnone'),
        store.load('hv-tstr'),
      ]);
      expect(scripts.count).toBe(1);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
      expect(results[1].status === 'fulfilled' && results[1].value).toMatchObject({ state: { hostId: 'hv-t2' }, topology: twoGpuHost() });
      expect(results[2].status === 'fulfilled' && results[2].value).toBeNull();
      expect(results[3].status === 'rejected' && String(results[3].reason)).toContain('not a hash');
    } finally {
      scripts.restore();
    }
    expect((await new RedisSimulatedHostStore(b, PREFIX).load('hv-t1'))!.calls.freeze).toBe(1);
  });

  it('parses a record once for every read of one version, and a topology once for every host reporting it', async () => {
    const store = new RedisSimulatedHostStore(a, PREFIX);
    await createSimulatedHost(new RedisSimulatedHostStore(b, PREFIX), spec('hv-s1'));
    await createSimulatedHost(new RedisSimulatedHostStore(b, PREFIX), spec('hv-s2'));
    const scripts = countScriptRuns(a);
    let identity: SimulatedHostState | null;
    let snapshot: Awaited<ReturnType<RedisSimulatedHostStore['loadWithTopology']>>;
    try {
      [identity, snapshot] = await Promise.all([store.load('hv-s1'), store.loadWithTopology('hv-s1')]);
      // One read of the host (its key once, widened to the topology) answers both questions.
      expect(scripts.count).toBe(1);
      expect(scripts.runs[0].args.slice(1)).toEqual(['1', keys.simulatedHost('hv-s1'), 't']);
    } finally {
      scripts.restore();
    }
    expect(snapshot!.state).toBe(identity);
    expect((await store.loadWithTopology('hv-s2'))!.topology).toBe(snapshot!.topology);
    expect(snapshot!.topology).toEqual(twoGpuHost());

    // Another writer's change is read as such, not answered from what this store had parsed.
    await new RedisSimulatedHostStore(b, PREFIX).update('hv-s1', (s) => ({ ...s, kernelRelease: 'changed' }));
    const changed = (await store.load('hv-s1'))!;
    expect(changed).not.toBe(identity);
    expect(changed).toMatchObject({ kernelRelease: 'changed', version: 1 });
    expect(identity!.kernelRelease).toBe(OLD_KERNEL);

    // Its own write read back is shared by the reads, and the next update still starts from it.
    await store.update('hv-s1', (s) => ({ ...s, calls: { freeze: 1 } }));
    const mine = (await store.load('hv-s1'))!;
    expect(mine).toMatchObject({ kernelRelease: 'changed', version: 2, calls: { freeze: 1 } });
    await store.update('hv-s1', (s) => ({ ...s, calls: { ...s.calls, thaw: 1 } }));
    expect(mine.calls).toEqual({ freeze: 1 });
    expect((await new RedisSimulatedHostStore(b, PREFIX).load('hv-s1'))!).toMatchObject({ version: 3, calls: { freeze: 1, thaw: 1 } });
  });

  it('reads a host again after a write of the same turn, not answering from the read before it', async () => {
    const store = new RedisSimulatedHostStore(a, PREFIX);
    await createSimulatedHost(new RedisSimulatedHostStore(b, PREFIX), spec('hv-s3'));
    // Seen once, so the update below sends its write at once, in the turn of the reads around it.
    await store.load('hv-s3');
    const before = store.load('hv-s3');
    const write = store.update('hv-s3', (s) => ({ ...s, kernelRelease: 'written' }));
    const after = store.load('hv-s3');
    await write;
    expect((await before)!.kernelRelease).toBe(OLD_KERNEL);
    expect((await after)!).toMatchObject({ kernelRelease: 'written', version: 1 });
  });

  it('lets a worker on another connection continue a host after the first one died', async () => {
    const first = new SimulatedHostDriver('hv-3', new RedisSimulatedHostStore(a, PREFIX), { latencyScale: 0 });
    await createSimulatedHost(new RedisSimulatedHostStore(a, PREFIX), spec('hv-3'));
    const ctx = contextFor('hv-3', preservationSetOf([{ bdf: GPU_A, preservable: true }]));
    const before = await first.identity();
    await first.kexecLoad(ctx);
    await first.preserve(ctx);
    await first.freeze(ctx);
    await first.kexec(ctx);

    const second = new SimulatedHostDriver('hv-3', new RedisSimulatedHostStore(b, PREFIX), { latencyScale: 0 });
    const after = await second.identity();
    expect(after.bootId).not.toBe(before.bootId);
    expect(after.kernelRelease).toBe(NEW_KERNEL);
    expect(await second.incoming(ctx)).toEqual({ incoming: [GPU_A] });
    await second.retrieve(ctx);
    await second.finish(ctx);
    const s = (await new RedisSimulatedHostStore(b, PREFIX).load('hv-3'))!;
    expect(s).toMatchObject({ vmsRunning: true, finished: true, calls: { kexec: 1, finish: 1 } });
  });

  it('moves VMs between hosts atomically: concurrent and resent moves leave each VM on exactly one host', async () => {
    const store = new RedisSimulatedHostStore(a, PREFIX);
    const other = new RedisSimulatedHostStore(b, PREFIX);
    const vm = (id: string) => ({ id, devices: [], memory: { backing: 'memfd-shmem' as const, sizeMiB: 512 }, balloon: false, virtioMem: false, migratable: true });
    const ids = Array.from({ length: 20 }, (_, i) => `vm-${i}`);
    await createSimulatedHost(store, { ...spec('hv-m1'), vms: ids.map(vm) });
    await createSimulatedHost(store, { ...spec('hv-m2'), vms: [vm('vm-0')] });
    await createSimulatedHost(store, spec('hv-m3'));
    // Two workers send every move, each to a different target, at once: one wins each VM.
    const moves = ids.flatMap((id) => [store.migrateVm(`hv-m1/${id}`, 'hv-m1', 'hv-m2'), other.migrateVm(`hv-m1/${id}`, 'hv-m1', 'hv-m3')]);
    const results = await Promise.all(moves);
    expect(results.filter((r) => r === 'moved')).toHaveLength(20);
    expect(results.filter((r) => r === 'elsewhere')).toHaveLength(20);
    expect(await store.migrateVm('hv-m1/vm-3', 'hv-m1', (await store.placements()).hostOf.get('hv-m1/vm-3')!)).toBe('already');
    const { hostOf, lists } = await store.placements();
    expect(lists.get('hv-m1')).toBeUndefined();
    const listed = [...(lists.get('hv-m2') ?? []), ...(lists.get('hv-m3') ?? [])].sort();
    expect(listed).toEqual([...ids.map((id) => `hv-m1/${id}`), 'hv-m2/vm-0'].sort());
    for (const [name, host] of hostOf) if (name.startsWith('hv-m')) expect(lists.get(host)).toContain(name);
    // A host created again (another worker registers it) does not bring its VMs back.
    await createSimulatedHost(store, { ...spec('hv-m1'), vms: ids.map(vm) });
    expect(await store.vmsOn('hv-m1')).toEqual([]);
  });
});
