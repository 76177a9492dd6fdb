import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topologyArb } from '../test/arbitrary-topology';
import { TopologyBuilder } from './topology-builder';
import { parseHostTopology, serializeHostTopology, TopologyValidationError } from './topology-json';

function issuesOf(input: unknown) {
  try {
    parseHostTopology(input);
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyValidationError);
    return (err as TopologyValidationError).issues;
  }
  throw new Error('accepted');
}

const sample = () => {
  const b = new TopologyBuilder();
  const rp = b.add('0000:00:01.0', { pcieType: 'root_port', group: 1 });
  b.add('0000:01:00.0', { parent: rp, driver: 'vfio-pci', group: 2 });
  b.add('0000:01:00.1', { parent: rp, group: 2 });
  return JSON.parse(serializeHostTopology(b.build()));
};

describe('parseHostTopology', () => {
  it('accepts its own serialization of any topology', () => {
    fc.assert(
      fc.property(topologyArb, (t) => {
        expect(parseHostTopology(JSON.parse(serializeHostTopology(t)))).toEqual(t);
      }),
      { numRuns: 50 },
    );
  });

  it('names each wrong field', () => {
    const doc = sample();
    doc.devices[1].bdf = '0000:01:00';
    doc.devices[2].vendor = 'intel';
    doc.devices[0].acs = { state: 'maybe' };
    const paths = issuesOf(doc).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['devices[1].bdf', 'devices[2].vendor', 'devices[0].acs.state']));
    expect(issuesOf(doc).find((i) => i.path === 'devices[1].bdf')?.problem).toMatch(/not a PCI address/);
    expect(issuesOf({ devices: 'none' }).map((i) => i.path)).toEqual(expect.arrayContaining(['devices', 'iommuGroups']));
  });

  it('cross-checks groups, parents and VFs', () => {
    let doc = sample();
    doc.iommuGroups['2'] = ['0000:01:00.0'];
    expect(issuesOf(doc)).toEqual([{ path: 'devices[2].iommuGroup', problem: 'iommuGroups.2 does not list 0000:01:00.1' }]);
    doc = sample();
    doc.iommuGroups['1'].push('0000:09:00.0');
    expect(issuesOf(doc)[0].path).toBe('iommuGroups.1[1]');
    doc = sample();
    doc.devices[1].parentChain = ['0000:00:02.0'];
    expect(issuesOf(doc)).toEqual([{ path: 'devices[1].parentChain[0]', problem: '0000:00:02.0 is not among devices' }]);
    doc = sample();
    doc.devices[2].physfn = '0000:01:00.0';
    expect(issuesOf(doc).map((i) => i.path)).toEqual(['devices[2].isVirtfn']);
    doc = sample();
    doc.devices.push({ ...doc.devices[0] });
    expect(issuesOf(doc).map((i) => i.path)).toContain('devices[3].bdf');
  });
});
