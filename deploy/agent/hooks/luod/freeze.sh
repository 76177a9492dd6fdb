#!/usr/bin/env bash
# Step freeze: pause every VM's vCPUs and mask its device interrupts; the blackout starts here.
# There is no freeze ioctl: the kernel freezes the preserved memfds inside the kexec reboot, and a
# failure there returns to userspace with nothing done. CANNOT RUN HERE; see common.sh.
# Idempotent: an already paused VM is left as it is.
source "$(dirname "$(readlink -f "$0")")/common.sh"
cat >/dev/null

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  [[ $(vm_state "$vm") == paused ]] || "$VMMCTL" pause --vm "$vm"
done
log "paused ${#vms[@]} VMs"
