import type { PreservationSet } from '@luo-fleet/preservation';

/** The --json form: one object, devices first, then the VMs when given, as design 4.3 shows it. */
export function planJson(set: PreservationSet, sysfs: string): string {
  return JSON.stringify({ devices: set.devices, vms: set.vms, profile: set.profile, strictAcs: set.strictAcs, sysfs, summary: set.summary });
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

/** A table for people: one row per device, then each rejection's reasons with their details; then the VMs. */
export function planTable(set: PreservationSet, sysfs: string): string {
  const lines: string[] = [];
  lines.push(`Plan for ${sysfs} (rule profile ${set.profile}, strict ACS ${set.strictAcs ? 'on' : 'off'})`);
  if (set.devices.length === 0) {
    lines.push('No devices to plan: none is bound to vfio-pci (name some with --devices).');
    lines.push(...vmLines(set));
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
  lines.push(...vmLines(set));
  return lines.join('\n');
}

/** One row per VM with its reasons and their details, then the counts and what would have to change. */
function vmLines(set: PreservationSet): string[] {
  const vms = set.vms;
  const summary = set.summary.vms;
  if (vms === undefined || summary === undefined) return [];
  const lines = [''];
  if (vms.length === 0) return [...lines, 'No VMs in the VM file.'];
  const idWidth = Math.max(14, ...vms.map((v) => v.id.length + 2));
  lines.push(`${pad('VM', idWidth)}${pad('VERDICT', 14)}${pad('DEVICES', 9)}REASONS`);
  for (const v of vms) {
    lines.push(`${pad(v.id, idWidth)}${pad(v.preservable ? 'preservable' : 'rejected', 14)}${pad(String(v.devices.length), 9)}${v.reasons.join(', ') || '-'}`);
    for (const reason of v.reasons) {
      const detail = v.details[reason];
      if (detail) lines.push(`${' '.repeat(idWidth)}  ${reason}: ${detail}`);
    }
  }
  lines.push('');
  lines.push(`${summary.total} VMs, ${summary.preservable} can ride the Live Update, ${summary.rejected} cannot.`);
  for (const change of summary.changes) lines.push(`  ${change}`);
  return lines;
}
