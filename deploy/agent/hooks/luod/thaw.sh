#!/usr/bin/env bash
# Rollback step thaw (old kernel, kexec did not happen): re-enable device interrupts and resume
# every VM. CANNOT RUN HERE; see common.sh. Safe when freeze never ran or ran half-way.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  "$VMMCTL" live-update unfreeze --vm "$vm" --session "$SESSION" --if-frozen
  [[ $(vm_state "$vm") == running ]] || "$VMMCTL" resume --vm "$vm"
done
log "resumed ${#vms[@]} VMs"
