#!/usr/bin/env bash
# Query hook vms: print the host's VMs on stdout as one JSON array in the inventory's form (design
# 4.5): [{"id", "devices": [BDF...], "memory": {"backing", "sizeMiB"}, "balloon", "virtioMem",
# "migratable"}], and nothing else on stdout. The agent checks it with the planner's VM schema.
# CANNOT RUN HERE; see common.sh. Stdin carries {"hostId": ...} only; it is not needed.
# `vmmctl info --json` stands for the site's VMM: assigned VFIO devices, how guest memory is backed
# (a shmem memfd, an MFD_HUGETLB memfd, anonymous or a file), and its balloon/virtio-mem devices.
source "$(dirname "$(readlink -f "$0")")/common.sh"
cat >/dev/null

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  "$VMMCTL" info --vm "$vm" --json
done | jq -cs 'map({
  id: .id,
  devices: [.vfio[]?.bdf],
  memory: {backing: .memory.backing, sizeMiB: .memory.size_mib},
  balloon: (.balloon != null),
  virtioMem: (.virtio_mem != null),
  migratable: (.migratable // false)
})'
