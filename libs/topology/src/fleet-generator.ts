import { buildHostTopology, HOST_KINDS, type HostKind } from './fleet-generator-kinds';
import { hostSeed, mulberry32 } from './fleet-generator-prng';
import { buildHostVms } from './fleet-generator-vms';
import type { HostTopology } from './model';
import type { Vm } from './vm';

export { HOST_KINDS, type HostKind } from './fleet-generator-kinds';
export { mulberry32, type Prng } from './fleet-generator-prng';

/** A synthetic host: deterministic for (seed, index), realistic enough to exercise every rule. */
export interface GeneratedHost {
  hostname: string;
  labels: { rack: string; zone: string; kind: string };
  topology: HostTopology;
  /** Its VMs in the inventory's form, holding only its vfio-pci devices (some of those stay idle). */
  vms: Vm[];
  /** `false` for a host drawn with Live Update off (`luoDisabled`); absent otherwise. */
  luoEnabled?: false;
}

export interface GenerateHostOptions {
  /** Exact device count (5 to 200); default: the kind's natural size. */
  devices?: number;
  /** Exact VM count (0 to 1000); default: one VM per passthrough unit plus a few without devices. */
  vms?: number;
  /** Default: drawn per host from the fleet mix. */
  kind?: HostKind;
  /**
   * Share of hosts (0 to 1) that are general-purpose (`general`), drawn per host from a stream of
   * its own: every other host is exactly the host of the default mix. Default 0 (none).
   */
  generalPurpose?: number;
  /**
   * Share of hosts (0 to 1) whose kernel has Live Update off (`luoEnabled: false`, design 4.1
   * `LUO_DISABLED`), drawn per host from a stream of its own: topologies and VMs stay as they were.
   * Default 0 (none).
   */
  luoDisabled?: number;
}

export const HOSTS_PER_RACK = 40;
export const ZONES = 8;
export const MIN_GENERATED_DEVICES = 5;
export const MAX_GENERATED_DEVICES = 200;
export const MAX_GENERATED_VMS = 1000;
/** VMs are drawn from their own stream, so adding them left every topology of a seed as it was. */
const VM_STREAM = 0x564d73;

/** General-purpose hosts (`generalPurpose`) are drawn from their own stream, so that the other hosts stay as they were. */
const GENERAL_STREAM = 0x6770;
/** Hosts with Live Update off (`luoDisabled`) are drawn from their own stream too. */
const LUO_STREAM = 0x6c756f;

/** Share of each passthrough kind in a generated fleet (general-purpose hosts come from `generalPurpose`). */
const KIND_MIX: readonly (readonly [HostKind, number])[] = [
  ['gpu', 0.25],
  ['sriov-nic', 0.25],
  ['nvme', 0.25],
  ['shared-group', 0.15],
  ['legacy', 0.1],
];

/** An option of the fleet generator that cannot be used: names the option and the problem. */
export class FleetGeneratorError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`fleet generator: ${field} ${problem}`);
    this.name = 'FleetGeneratorError';
  }
}

export function generateHost(seed: number, index: number, opts: GenerateHostOptions = {}): GeneratedHost {
  checkOptions(seed, opts);
  if (!Number.isSafeInteger(index) || index < 0) throw new FleetGeneratorError('index', `must be a whole number >= 0, got ${index}`);
  return hostAt(seed, index, opts);
}

/** Hosts 0..count-1 one at a time, so a fleet of 100k never has to be held at once. */
export function* generateFleet(count: number, seed: number, opts: GenerateHostOptions = {}): Generator<GeneratedHost> {
  if (!Number.isSafeInteger(count) || count < 0) throw new FleetGeneratorError('count', `must be a whole number >= 0, got ${count}`);
  checkOptions(seed, opts);
  for (let index = 0; index < count; index++) yield hostAt(seed, index, opts);
}

function hostAt(seed: number, index: number, opts: GenerateHostOptions): GeneratedHost {
  const rng = mulberry32(hostSeed(seed, index));
  const drawn = drawKind(rng.next());
  const kind = opts.kind ?? (isGeneralPurpose(seed, index, opts.generalPurpose ?? 0) ? 'general' : drawn);
  const rack = Math.floor(index / HOSTS_PER_RACK);
  const zone = rack % ZONES;
  const topology = buildHostTopology(kind, rng, opts.devices);
  return {
    hostname: `hv-z${zone}-r${pad(rack, 4)}-${pad(index % HOSTS_PER_RACK, 2)}`,
    labels: { rack: `rack-${pad(rack, 4)}`, zone: `zone-${zone}`, kind },
    topology,
    vms: buildHostVms(kind, topology, mulberry32(hostSeed(seed ^ VM_STREAM, index)), opts.vms),
    ...(drawnShare(seed ^ LUO_STREAM, index, opts.luoDisabled ?? 0) ? { luoEnabled: false as const } : {}),
  };
}

function drawKind(u: number): HostKind {
  let acc = 0;
  for (const [kind, share] of KIND_MIX) {
    acc += share;
    if (u < acc) return kind;
  }
  return KIND_MIX[KIND_MIX.length - 1][0];
}

function isGeneralPurpose(seed: number, index: number, share: number): boolean {
  return drawnShare(seed ^ GENERAL_STREAM, index, share);
}

/** Whether host `index` falls in `share` of the hosts, drawn from the stream seeded by `streamSeed`. */
function drawnShare(streamSeed: number, index: number, share: number): boolean {
  return share > 0 && mulberry32(hostSeed(streamSeed, index)).next() < share;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function checkOptions(seed: number, opts: GenerateHostOptions): void {
  if (!Number.isFinite(seed)) throw new FleetGeneratorError('seed', `must be a finite number, got ${seed}`);
  const { devices, kind, vms } = opts;
  for (const field of ['generalPurpose', 'luoDisabled'] as const) {
    const share = opts[field];
    if (share !== undefined && !(typeof share === 'number' && share >= 0 && share <= 1)) {
      throw new FleetGeneratorError(field, `must be a share from 0 to 1, got ${share}`);
    }
  }
  if (vms !== undefined && (!Number.isInteger(vms) || vms < 0 || vms > MAX_GENERATED_VMS)) {
    throw new FleetGeneratorError('vms', `must be a whole number from 0 to ${MAX_GENERATED_VMS}, got ${vms}`);
  }
  if (
    devices !== undefined &&
    (!Number.isInteger(devices) || devices < MIN_GENERATED_DEVICES || devices > MAX_GENERATED_DEVICES)
  ) {
    throw new FleetGeneratorError(
      'devices',
      `must be a whole number from ${MIN_GENERATED_DEVICES} to ${MAX_GENERATED_DEVICES}, got ${devices}`,
    );
  }
  if (kind !== undefined && !(HOST_KINDS as readonly string[]).includes(kind)) {
    throw new FleetGeneratorError('kind', `must be one of ${HOST_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
}
