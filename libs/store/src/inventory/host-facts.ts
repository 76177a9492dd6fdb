import type { HostReason } from '@luo-fleet/preservation';

/**
 * What is known of a host itself, apart from its devices and VMs (design 4.1 host-level codes).
 * Each fact is optional: absent means unknown, which plans as if the host were fine (a precheck
 * still checks it at run time).
 */
export interface HostFacts {
  /** The host's kernel has Live Update on (`/dev/liveupdate`, `liveupdate=on kho=on`), as its agent or registration says. */
  luoEnabled?: boolean;
}

/** The design 4.1 host-level codes a host's known facts imply, for the strategy choice. */
export function hostReasonsOf(facts: HostFacts): HostReason[] {
  return facts.luoEnabled === false ? ['LUO_DISABLED'] : [];
}

/** The `luoEnabled` field of a host record: '1', '0', or '' (unknown: the field is not written). */
export function encodeLuoEnabled(facts: HostFacts): string {
  return facts.luoEnabled === undefined ? '' : facts.luoEnabled ? '1' : '0';
}

/** The facts of a stored record; a record written before the field existed has none (unknown). */
export function decodeHostFacts(luoEnabled: string | null | undefined): HostFacts {
  return luoEnabled === '1' ? { luoEnabled: true } : luoEnabled === '0' ? { luoEnabled: false } : {};
}
