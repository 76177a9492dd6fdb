import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopologyBuilder } from './topology-builder';
import { parseVms, VmValidationError } from './vm-json';

const host = (() => {
  const b = new TopologyBuilder();
  const rp = b.add('0000:00:01.0', { pcieType: 'root_port', group: 1 });
  b.add('0000:3b:00.0', { parent: rp, driver: 'vfio-pci', group: 2 });
  b.add('0000:3b:00.1', { parent: rp, driver: 'vfio-pci', group: 3 });
  return b.build();
})();

const vm = (id: string, devices: string[], extra: Record<string, unknown> = {}) => ({
  id,
  devices,
  memory: { backing: 'memfd-shmem', sizeMiB: 4096 },
  balloon: false,
  virtioMem: false,
  migratable: true,
  ...extra,
});

function issuesOf(input: unknown) {
  try {
    parseVms(input, host);
  } catch (err) {
    expect(err).toBeInstanceOf(VmValidationError);
    return (err as VmValidationError).issues;
  }
  throw new Error('accepted');
}

describe('parseVms', () => {
  it('keeps the file order and canonicalises BDFs', () => {
    const vms = parseVms([vm('vm-b', ['3B:00.1']), vm('vm-a', ['0000:3b:00.0'])], host);
    expect(vms.map((v) => [v.id, v.devices])).toEqual([
      ['vm-b', ['0000:3b:00.1']],
      ['vm-a', ['0000:3b:00.0']],
    ]);
  });

  it('names every wrong field with its path', () => {
    const bad = [
      vm('vm-a', []),
      vm('vm-b', ['0000:3b:00.0'], { balloon: 'yes' }),
      vm('vm-c', [], { memory: { backing: 'tmpfs', sizeMiB: -1 } }),
      vm('', ['not-a-bdf']),
    ];
    const issues = issuesOf(bad);
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['vms[1].balloon', 'vms[2].memory.backing', 'vms[2].memory.sizeMiB', 'vms[3].id', 'vms[3].devices[0]']),
    );
    expect(issues.find((i) => i.path === 'vms[3].devices[0]')?.problem).toMatch(/"not-a-bdf" is not a PCI address/);
    expect(() => parseVms(bad, host)).toThrow(/^invalid VM list: .*vms\[2\]\.memory\.backing: /);
  });

  it('refuses a document that is not an array, and a VM missing a field', () => {
    expect(issuesOf({ vms: [] })).toEqual([expect.objectContaining({ path: 'vms' })]);
    const { migratable: _dropped, ...noFlag } = vm('vm-a', []);
    expect(issuesOf([noFlag]).map((i) => i.path)).toEqual(['vms[0].migratable']);
  });

  it('refuses a device held by two VMs, naming both', () => {
    expect(issuesOf([vm('vm-a', ['0000:3b:00.0']), vm('vm-b', ['3b:00.1', '3b:00.0'])])).toEqual([
      { path: 'vms[1].devices[1]', problem: '0000:3b:00.0 is held by two VMs (also by vm-a at vms[0].devices[0])' },
    ]);
    expect(issuesOf([vm('vm-a', ['0000:3b:00.0', '0000:3b:00.0'])]).map((i) => i.path)).toEqual(['vms[0].devices[1]']);
  });

  it('refuses a device the host does not have, and an id listed twice', () => {
    expect(issuesOf([vm('vm-a', ['0000:42:00.0']), vm('vm-a', [])])).toEqual([
      { path: 'vms[0].devices[0]', problem: '0000:42:00.0 is not a PCI device of this host' },
      { path: 'vms[1].id', problem: 'vm-a is listed twice (also vms[0])' },
    ]);
    expect(parseVms([vm('vm-a', ['0000:42:00.0'])])[0].devices).toEqual(['0000:42:00.0']);
  });

  it('keeps labels in a null-prototype object, __proto__ included', () => {
    const [parsed] = parseVms(JSON.parse('[{"id":"vm-a","devices":[],"memory":{"backing":"file","sizeMiB":1},"balloon":false,"virtioMem":false,"migratable":false,"labels":{"__proto__":"x","team":"gpu"}}]'));
    expect(Object.getPrototypeOf(parsed.labels)).toBeNull();
    expect(Object.keys(parsed.labels ?? {})).toEqual(['__proto__', 'team']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(issuesOf([vm('vm-a', [], { labels: { team: 7 } })])).toEqual([{ path: 'vms[0].labels.team', problem: 'expected text, received number' }]);
    expect(issuesOf([vm('vm-a', [], { labels: ['a'] })]).map((i) => i.path)).toEqual(['vms[0].labels']);
  });
});

describe('parseVms on corrupted input', () => {
  const FIELDS: Array<[string, (v: Record<string, unknown>) => void]> = [
    ['id', (v) => (v.id = 42)],
    ['devices', (v) => (v.devices = '0000:3b:00.0')],
    ['devices[0]', (v) => (v.devices = ['zz:00.0'])],
    ['memory', (v) => (v.memory = null)],
    ['memory.backing', (v) => (v.memory = { backing: 'hugepages', sizeMiB: 1 })],
    ['memory.sizeMiB', (v) => (v.memory = { backing: 'file', sizeMiB: -1 })],
    ['memory.sizeMiB', (v) => (v.memory = { backing: 'file', sizeMiB: 1.5 })],
    ['balloon', (v) => (v.balloon = 'no')],
    ['virtioMem', (v) => delete v.virtioMem],
    ['migratable', (v) => (v.migratable = 1)],
    ['labels', (v) => (v.labels = 'gpu')],
  ];

  it('names the one field that was broken, at its index', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.nat(), fc.constantFrom(...FIELDS), (count, at, [field, breakIt]) => {
        const list: Record<string, unknown>[] = Array.from({ length: count }, (_, i) => vm(`vm-${i}`, []));
        const index = at % count;
        breakIt(list[index]);
        expect(issuesOf(list).map((i) => i.path)).toEqual([`vms[${index}].${field}`]);
      }),
      { numRuns: 200 },
    );
  });
});
