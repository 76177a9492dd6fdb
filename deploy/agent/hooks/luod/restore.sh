#!/usr/bin/env bash
# VMM hook `liveupdate.vmm.restore` (step retrieve, new kernel): the agent retrieved each VM's
# session and memfds; they are this hook's open fds 3, 4, ... and stdin lists which is whose:
#   {..., "vms":[{"id":"vm-a","memory":[{"fd":3},{"fd":4}]}]}
# Start each VM again on its preserved memory and resume it; exit 0 only when all run. The VMM
# must outlive this hook (the agent ends the hook's process group): hand it to the service manager.
# CANNOT RUN HERE; see common.sh. The agent runs it once per boot (a retry after success is answered
# from its record).
source "$(dirname "$(readlink -f "$0")")/common.sh"
request=$(cat)

mapfile -t vms < <(jq -r '.vms[].id' <<<"$request")
for vm in "${vms[@]}"; do
  mapfile -t fds < <(jq -r --arg id "$vm" '.vms[] | select(.id == $id) | .memory[].fd' <<<"$request")
  args=()
  for fd in "${fds[@]}"; do args+=(--memory-fd "$fd"); done
  "$VMMCTL" restore --vm "$vm" "${args[@]}"
  [[ $(vm_state "$vm") == running ]] || "$VMMCTL" resume --vm "$vm"
done
log "restored and resumed ${#vms[@]} VMs"
