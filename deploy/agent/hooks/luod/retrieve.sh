#!/usr/bin/env bash
# Step retrieve (new kernel): luod retrieves the session, the VMMs retrieve their fds and resume the
# VMs. CANNOT RUN HERE; see common.sh. The orchestrator has already checked, with the incoming hook
# and the topology, that every preserved device came in and still passes the rules; the kernel's
# pci_liveupdate_retrieve() checks again.
# Idempotent: retrieving a retrieved session and resuming a running VM are no-ops.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request
require_luo

"$LUOCTL" session retrieve --name "$SESSION" --if-not-retrieved
# VMM processes did not survive the kexec: the restore command starts them from the session.
"$VMMCTL" live-update restore --session "$SESSION"
mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  [[ $(vm_state "$vm") == running ]] || "$VMMCTL" resume --vm "$vm"
done
log "restored and resumed ${#vms[@]} VMs"
