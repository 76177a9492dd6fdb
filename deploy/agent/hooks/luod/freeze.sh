#!/usr/bin/env bash
# Step freeze: pause vCPUs and disable device interrupts in every VM; the blackout starts here.
# CANNOT RUN HERE; see common.sh. Idempotent: an already paused VM is left as it is.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  if [[ $(vm_state "$vm") != paused ]]; then
    "$VMMCTL" pause --vm "$vm"
  fi
  "$VMMCTL" live-update freeze --vm "$vm" --session "$SESSION"
done
log "froze ${#vms[@]} VMs"
