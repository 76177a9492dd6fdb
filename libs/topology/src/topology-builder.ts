import { compareBdf, parseBdf } from './bdf';
import { ACS_FLAGS, REQ_ACS_FLAGS } from './config-space';
import type { AcsState, Bdf, HostTopology, PcieType, PciDevice } from './model';
import { parseHostTopology } from './topology-json';

/** One device as a fixture or test describes it; everything not said takes a plain default. */
export interface DeviceSpec {
  /** The bridge directly above; omitted on a root bus. A VF defaults to its PF's parent. */
  parent?: string;
  vendor?: number;
  device?: number;
  class?: number;
  driver?: string | null;
  pcieType?: PcieType;
  multifunction?: boolean;
  acs?: AcsState;
  group?: number | null;
  /** Makes the device an SR-IOV PF offering this many VFs (enabled ones say `physfn` to it). */
  sriovTotalVfs?: number;
  /** Makes the device a VF of this PF. */
  physfn?: string;
}

/** ACS offered in full and the kernel's required flags (SV, RR, CR, UF) enabled. */
export const ACS_ENABLED: AcsState = { state: 'present', capability: 0x7f, control: REQ_ACS_FLAGS };
export const ACS_ABSENT: AcsState = { state: 'absent' };

/** ACS offered in full but one required flag left disabled (a firmware or quirk gap). */
export function acsWithout(flag: keyof typeof ACS_FLAGS): AcsState {
  return { state: 'present', capability: 0x7f, control: REQ_ACS_FLAGS & ~ACS_FLAGS[flag] };
}

/**
 * Builds a consistent HostTopology from per-device specs: parent chains, VF lists and group
 * membership are derived, so a spec says each fact once.
 */
export class TopologyBuilder {
  private readonly specs = new Map<Bdf, DeviceSpec>();

  add(bdf: string, spec: DeviceSpec = {}): Bdf {
    const canonical = parseBdf(bdf);
    if (this.specs.has(canonical)) throw new Error(`${canonical} added twice`);
    this.specs.set(canonical, spec);
    return canonical;
  }

  private parentOf(bdf: Bdf): Bdf | null {
    const spec = this.specs.get(bdf);
    if (!spec) throw new Error(`${bdf} is referred to but never added`);
    if (spec.parent !== undefined) return parseBdf(spec.parent);
    if (spec.physfn !== undefined) return this.parentOf(parseBdf(spec.physfn));
    return null;
  }

  private chainOf(bdf: Bdf): Bdf[] {
    const chain: Bdf[] = [];
    for (let p = this.parentOf(bdf); p !== null; p = this.parentOf(p)) {
      if (chain.includes(p) || p === bdf) throw new Error(`${bdf}: parent chain loops at ${p}`);
      chain.push(p);
    }
    return chain;
  }

  build(): HostTopology {
    const devices: PciDevice[] = [...this.specs.entries()].map(([bdf, s]) => {
      const physfn = s.physfn !== undefined ? parseBdf(s.physfn) : null;
      return {
        bdf,
        vendor: s.vendor ?? 0x8086,
        device: s.device ?? 0x0001,
        class: s.class ?? 0x000000,
        driver: s.driver ?? null,
        parentChain: this.chainOf(bdf),
        isVirtfn: physfn !== null,
        physfn,
        isPhysfn: s.sriovTotalVfs !== undefined,
        sriovTotalVfs: s.sriovTotalVfs ?? 0,
        virtfns: [...this.specs.entries()]
          .filter(([, vf]) => vf.physfn !== undefined && parseBdf(vf.physfn) === bdf)
          .map(([vf]) => vf)
          .sort(compareBdf),
        iommuGroup: s.group ?? null,
        pcieType: s.pcieType ?? 'endpoint',
        multifunction: s.multifunction ?? false,
        acs: s.acs ?? ACS_ABSENT,
      };
    });
    const iommuGroups: Record<string, Bdf[]> = {};
    for (const d of devices) if (d.iommuGroup !== null) (iommuGroups[String(d.iommuGroup)] ??= []).push(d.bdf);
    // Through the validator, so a spec with a dangling reference fails loudly here.
    return parseHostTopology({ devices, iommuGroups });
  }
}
