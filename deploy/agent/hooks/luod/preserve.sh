#!/usr/bin/env bash
# Step preserve: open the live-update session and have every VMM preserve its guest memory (memfd),
# VFIO device fds and iommufd into it, while the VMs still run. The heavy step.
# CANNOT RUN HERE (needs luod, a VMM, /dev/liveupdate); see common.sh.
# Idempotent: the session is created only if absent, and a VMM that already preserved into the
# session reports success without preserving twice.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request
require_luo

"$LUOCTL" session create --name "$SESSION" --if-absent

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  log "preserving VM $vm"
  "$VMMCTL" live-update prepare --vm "$vm" --session "$SESSION"
done

# The kernel's pci_liveupdate_preserve() already refused devices that break the rules; check that
# every device the plan preserves really is in the session before going on.
preserved=$("$LUOCTL" session status --name "$SESSION" --json)
for bdf in "${PRESERVED_BDFS[@]}"; do
  jq -e --arg bdf "$bdf" '.devices | index($bdf) != null' >/dev/null <<<"$preserved" \
    || die "device $bdf is not in session $SESSION after preserve"
done
log "session $SESSION holds ${#vms[@]} VMs and ${#PRESERVED_BDFS[@]} devices"
