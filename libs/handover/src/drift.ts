import type { HostTopology } from '@luo-fleet/topology';
import type { PlannedDevice } from './handover-plan';

export interface DriftFinding {
  bdf: string;
  detail: string;
}

/**
 * TOPOLOGY_DRIFT: the host no longer looks like the plan for a device it preserves. A device that
 * joined the group (hot-plug), left it, or a device that changed identity means the IOMMU group the
 * kernel will check is not the one that was judged safe.
 */
export function findDrift(planned: PlannedDevice[], topology: HostTopology): DriftFinding[] {
  const byBdf = new Map(topology.devices.map((d) => [d.bdf, d]));
  const findings: DriftFinding[] = [];
  for (const p of planned) {
    const now = byBdf.get(p.bdf);
    if (!now) {
      findings.push({ bdf: p.bdf, detail: `${p.bdf} disappeared` });
      continue;
    }
    if (now.vendor !== p.vendor || now.device !== p.device || now.class !== p.class) {
      findings.push({
        bdf: p.bdf,
        detail: `${p.bdf} changed identity: ${hex(p.vendor)}:${hex(p.device)} -> ${hex(now.vendor)}:${hex(now.device)}`,
      });
      continue;
    }
    if (now.iommuGroup !== p.iommuGroup) {
      findings.push({ bdf: p.bdf, detail: `${p.bdf} moved from IOMMU group ${p.iommuGroup} to ${now.iommuGroup}` });
      continue;
    }
    const members = now.iommuGroup === null ? [] : (topology.iommuGroups[String(now.iommuGroup)] ?? []);
    const joined = members.filter((m) => !p.groupMembers.includes(m));
    const left = p.groupMembers.filter((m) => !members.includes(m));
    if (joined.length > 0 || left.length > 0) {
      const parts = [];
      if (joined.length > 0) parts.push(`joined: ${joined.join(', ')}`);
      if (left.length > 0) parts.push(`left: ${left.join(', ')}`);
      findings.push({ bdf: p.bdf, detail: `IOMMU group ${now.iommuGroup} of ${p.bdf} changed (${parts.join('; ')})` });
    }
  }
  return findings;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
