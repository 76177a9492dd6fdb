#!/usr/bin/env bash
# Rollback step thaw (old kernel, the kexec did not happen): resume every VM.
# CANNOT RUN HERE; see common.sh. Safe when freeze never ran or ran half-way.
source "$(dirname "$(readlink -f "$0")")/common.sh"
cat >/dev/null

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  [[ $(vm_state "$vm") == running ]] || "$VMMCTL" resume --vm "$vm"
done
log "resumed ${#vms[@]} VMs"
