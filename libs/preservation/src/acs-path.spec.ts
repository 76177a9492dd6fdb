import type { PcieType, PciDevice } from '@luo-fleet/topology';
import { describe, expect, it } from 'vitest';
import { ACS_FLAGS, acsFailure, acsPathVerdict, REQUIRED_ACS_FLAGS } from './acs-path';
import { IndexedHost } from './indexed-host';
import { FULL_ACS, hostOf, NO_ACS, pciDevice, rootPort, UNKNOWN_ACS } from './topology.fixture';

const present = (capability: number, control: number) => ({ state: 'present' as const, capability, control });
const device = (pcieType: PcieType, facts: Partial<PciDevice> = {}) => pciDevice('0000:05:00.0', { pcieType, ...facts });

describe('acsFailure (pci_acs_enabled with SV|RR|CR|UF)', () => {
  it('fails conventional PCI devices whatever their ACS says', () => {
    expect(acsFailure(device('conventional', { acs: FULL_ACS }))).toMatch(/0000:05:00\.0 .*not PCI Express/);
  });

  it.each(['pci_to_pcie_bridge', 'pcie_to_pci_bridge', 'rc_event_collector'] as const)(
    'fails a %s even with full ACS enabled',
    (type) => {
      expect(acsFailure(device(type, { acs: FULL_ACS }))).toMatch(/never provides ACS/);
      expect(acsFailure(device(type, { acs: FULL_ACS, multifunction: true }))).not.toBeNull();
    },
  );

  describe.each(['root_port', 'downstream_port'] as const)('%s: needs the flags, multifunction or not', (type) => {
    it('passes with SV, RR, CR and UF enabled', () => {
      expect(acsFailure(device(type, { acs: FULL_ACS }))).toBeNull();
      expect(acsFailure(device(type, { acs: FULL_ACS, multifunction: true }))).toBeNull();
    });
    it('fails without an ACS capability', () => {
      expect(acsFailure(device(type, { acs: NO_ACS }))).toMatch(/has no ACS capability/);
    });
    it('fails when config space was truncated', () => {
      expect(acsFailure(device(type, { acs: UNKNOWN_ACS }))).toMatch(/config space was truncated/);
    });
    it('names every flag offered but not enabled', () => {
      const detail = acsFailure(device(type, { acs: present(0x5f, 0x1d & ~(ACS_FLAGS.RR | ACS_FLAGS.UF)) }));
      expect(detail).toContain('lacks ACS P2P Request Redirect, Upstream Forwarding');
      expect(detail).not.toContain('Source Validation');
    });
    it('counts flags missing from the capability word as hard-wired on', () => {
      // Only SV is listed, and enabled: RR, CR and UF are hard-wired.
      expect(acsFailure(device(type, { acs: present(ACS_FLAGS.SV, ACS_FLAGS.SV) }))).toBeNull();
      expect(acsFailure(device(type, { acs: present(0, 0) }))).toBeNull();
      expect(acsFailure(device(type, { acs: present(ACS_FLAGS.SV, 0) }))).toMatch(/lacks ACS Source Validation$/);
    });
    it('never treats Egress Control as hard-wired', () => {
      const flags = ACS_FLAGS.SV | ACS_FLAGS.EC;
      expect(acsFailure(device(type, { acs: present(ACS_FLAGS.SV, ACS_FLAGS.SV) }), flags)).toMatch(/P2P Egress Control/);
      expect(acsFailure(device(type, { acs: present(ACS_FLAGS.SV, flags) }), flags)).toBeNull();
    });
  });

  describe.each(['endpoint', 'upstream_port', 'legacy_endpoint', 'rc_integrated_endpoint'] as const)(
    '%s: needs the flags only when multifunction',
    (type) => {
      it('passes single-function devices without looking at ACS', () => {
        expect(acsFailure(device(type, { acs: NO_ACS }))).toBeNull();
        expect(acsFailure(device(type, { acs: UNKNOWN_ACS }))).toBeNull();
        expect(acsFailure(device(type, { acs: present(0x5f, 0) }))).toBeNull();
      });
      it('judges multifunction devices by their ACS words', () => {
        expect(acsFailure(device(type, { multifunction: true, acs: FULL_ACS }))).toBeNull();
        expect(acsFailure(device(type, { multifunction: true, acs: NO_ACS }))).toMatch(/multifunction .*no ACS capability/);
        expect(acsFailure(device(type, { multifunction: true, acs: UNKNOWN_ACS }))).toMatch(/truncated/);
        expect(acsFailure(device(type, { multifunction: true, acs: present(0x5f, 0x19) }))).toMatch(/lacks ACS P2P Request Redirect/);
      });
    },
  );

  it('fails a device whose PCIe type could not be read, saying config space was truncated', () => {
    expect(acsFailure(device('unknown', { acs: FULL_ACS }))).toMatch(/config space was truncated/);
  });

  it('describes a failing port the way an operator reads it', () => {
    const dsp = pciDevice('0000:02:08.0', { pcieType: 'downstream_port', acs: present(0x5f, 0x1d & ~ACS_FLAGS.RR) });
    expect(acsFailure(dsp)).toBe('0000:02:08.0 (downstream port) lacks ACS P2P Request Redirect');
    expect(REQUIRED_ACS_FLAGS).toBe(0x1d);
  });
});

describe('acsPathVerdict (pci_acs_path_enabled, end NULL)', () => {
  const rp = rootPort('0000:00:01.0');
  const usp = pciDevice('0000:01:00.0', { pcieType: 'upstream_port', parentChain: [rp.bdf], driver: 'pcieport' });
  const dsp = pciDevice('0000:02:08.0', {
    pcieType: 'downstream_port',
    parentChain: [usp.bdf, rp.bdf],
    acs: FULL_ACS,
  });
  const gpu = pciDevice('0000:03:00.0', { parentChain: [dsp.bdf, usp.bdf, rp.bdf] });

  it('is enabled when the device and every bridge up to the root bus pass', () => {
    expect(acsPathVerdict(gpu, new IndexedHost(hostOf([rp, usp, dsp, gpu])))).toEqual({ enabled: true });
  });

  it('names the first failing device going up, not a later one', () => {
    const brokenDsp = { ...dsp, acs: present(0x5f, 0x19) };
    const brokenRp = { ...rp, acs: NO_ACS };
    const verdict = acsPathVerdict(gpu, new IndexedHost(hostOf([brokenRp, usp, brokenDsp, gpu])));
    expect(verdict).toEqual({
      enabled: false,
      blocker: '0000:02:08.0',
      detail: '0000:02:08.0 (downstream port) lacks ACS P2P Request Redirect',
    });
    const onlyRp = acsPathVerdict(gpu, new IndexedHost(hostOf([brokenRp, usp, dsp, gpu])));
    expect(onlyRp).toMatchObject({ enabled: false, blocker: rp.bdf });
  });

  it('checks the device itself first', () => {
    const mfGpu = { ...gpu, multifunction: true };
    const verdict = acsPathVerdict(mfGpu, new IndexedHost(hostOf([{ ...rp, acs: NO_ACS }, usp, dsp, mfGpu])));
    expect(verdict).toMatchObject({ enabled: false, blocker: gpu.bdf });
  });

  it('fails on a bridge the topology does not contain', () => {
    const verdict = acsPathVerdict(gpu, new IndexedHost(hostOf([rp, dsp, gpu])));
    expect(verdict).toMatchObject({ enabled: false, blocker: usp.bdf });
    expect(!verdict.enabled && verdict.detail).toMatch(/not in the topology/);
  });
});
