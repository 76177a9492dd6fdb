import { vmName, type CensusHost } from '@luo-fleet/simulated-host';
import { generateFleet, type HostTopology, type Vm } from '@luo-fleet/topology';
import type { ApiClient } from '../api-client';

/** The kernel every simulated host of the demo runs before its Live Update. */
export const DEMO_RUNNING_KERNEL = '6.12.0-lts';
/** Every demo host carries `fleet=demo`, which is what the demo's maintenance window selects. */
export const DEMO_SELECTOR = 'fleet=demo';

/** POST /v1/hosts:batch accepts up to 1000; smaller calls keep bodies a few MB and show progress. */
const HOSTS_PER_CALL = 100;

export interface SimulatedHostBody {
  id: string;
  labels: Record<string, string>;
  driver: { kind: 'simulated' };
  topology: HostTopology;
  vms: Vm[];
  capacity: { slots: number };
}

/** VM slots of every demo host: room for what it runs and a few evacuated VMs beside it. */
const DEMO_SLOTS_SPARE = 4;

/**
 * Share of general-purpose hosts (no passthrough, every VM live-migratable): where a real fleet
 * evacuates, when their VMs cannot ride a Live Update.
 */
export const DEMO_GENERAL_PURPOSE = 0.3;

/**
 * The demo's simulated fleet: the topology library's deterministic generator (GPU hosts behind
 * PCIe switches, SR-IOV NIC hosts, NVMe hosts, shared-group hosts, legacy PCI, general-purpose
 * hosts), 40 hosts a rack, with their VMs (GPU VMs on hugetlb, small VMs on VFs, idle vfio-pci
 * devices, whole-shmem hosts, general-purpose VMs on shmem or anonymous memory).
 */
export function* simulatedFleet(count: number, seed: number): Generator<SimulatedHostBody> {
  for (const host of generateFleet(count, seed, { generalPurpose: DEMO_GENERAL_PURPOSE })) {
    yield {
      id: host.hostname, // hv-z<zone>-r<rack>-<nn>: already a valid host id
      labels: { ...host.labels, kernel: DEMO_RUNNING_KERNEL, fleet: 'demo' },
      driver: { kind: 'simulated' },
      topology: host.topology,
      vms: host.vms,
      capacity: { slots: host.vms.length + DEMO_SLOTS_SPARE },
    };
  }
}

/** What was registered: hosts of each kind, and every host's VMs by fleet-wide name (for the VM census). */
export interface RegisteredFleet {
  kinds: Record<string, number>;
  hosts: CensusHost[];
}

/** Registers the fleet through the HTTP API; returns what it sent. */
export async function registerSimulatedFleet(
  client: ApiClient,
  count: number,
  seed: number,
  onProgress: (registered: number) => void,
): Promise<RegisteredFleet> {
  const kinds: Record<string, number> = {};
  const hosts: CensusHost[] = [];
  let chunk: SimulatedHostBody[] = [];
  let registered = 0;
  const send = async () => {
    await client.registerHosts(chunk);
    registered += chunk.length;
    chunk = [];
    onProgress(registered);
  };
  for (const host of simulatedFleet(count, seed)) {
    kinds[host.labels.kind] = (kinds[host.labels.kind] ?? 0) + 1;
    hosts.push({ id: host.id, vms: host.vms.map((vm) => vmName(host.id, vm.id)) });
    chunk.push(host);
    if (chunk.length === HOSTS_PER_CALL) await send();
  }
  if (chunk.length > 0) await send();
  return { kinds, hosts };
}
