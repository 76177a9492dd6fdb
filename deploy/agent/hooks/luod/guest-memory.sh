#!/usr/bin/env bash
# VMM hook `liveupdate.vmm.guestMemory` (step preserve, VMs still running): print on stdout, and
# nothing else there, every VM's guest-memory memfds as fds of the VMM process that holds them:
#   {"vms":[{"id":"vm-a","pid":4242,"memory":[{"fd":17},{"fd":18}]}]}
# The agent takes a copy of each with pidfd_getfd(2) and preserves it (LIVEUPDATE_SESSION_PRESERVE_FD)
# in the VM's own session. The memory must be a shmem memfd (memfd_create without MFD_HUGETLB):
# the kernel refuses anything else, and the host is rolled back. CANNOT RUN HERE; see common.sh.
source "$(dirname "$(readlink -f "$0")")/common.sh"
cat >/dev/null

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  "$VMMCTL" info --vm "$vm" --json | jq -c --arg id "$vm" '{id: $id, pid: .pid, memory: [.memory.regions[] | {fd: .memfd}]}'
done | jq -sc '{vms: .}'
log "listed ${#vms[@]} VMs"
