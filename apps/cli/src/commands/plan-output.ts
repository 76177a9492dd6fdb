import type { PreservationSet } from '@luo-fleet/preservation';

/** The --json form: one object, devices first, as design 4.3 shows it. */
export function planJson(set: PreservationSet, sysfs: string): string {
  return JSON.stringify({ devices: set.devices, profile: set.profile, strictAcs: set.strictAcs, sysfs, summary: set.summary });
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

/** A table for people: one row per device, then each rejection's reasons with their details. */
export function planTable(set: PreservationSet, sysfs: string): string {
  const lines: string[] = [];
  lines.push(`Plan for ${sysfs} (rule profile ${set.profile}, strict ACS ${set.strictAcs ? 'on' : 'off'})`);
  if (set.devices.length === 0) {
    lines.push('No devices to plan: none is bound to vfio-pci (name some with --devices).');
    return lines.join('\n');
  }
  const bdfWidth = Math.max(14, ...set.devices.map((d) => d.bdf.length + 2));
  lines.push(`${pad('DEVICE', bdfWidth)}${pad('VERDICT', 14)}${pad('GROUP', 7)}REASONS`);
  for (const d of set.devices) {
    const group = d.iommuGroup === null ? '-' : String(d.iommuGroup);
    lines.push(`${pad(d.bdf, bdfWidth)}${pad(d.preservable ? 'preservable' : 'rejected', 14)}${pad(group, 7)}${d.reasons.join(', ') || '-'}`);
    for (const reason of d.reasons) {
      const detail = d.details[reason];
      if (detail) lines.push(`${' '.repeat(bdfWidth)}  ${reason}: ${detail}`);
    }
  }
  const s = set.summary;
  const byReason = Object.entries(s.byReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  lines.push('');
  lines.push(`${s.requested} requested, ${s.preservable} preservable, ${s.rejected} rejected${byReason ? ` (first reasons: ${byReason})` : ''}.`);
  lines.push(s.eligible ? 'Live Update can preserve every requested device.' : 'Live Update cannot preserve every requested device.');
  return lines.join('\n');
}
