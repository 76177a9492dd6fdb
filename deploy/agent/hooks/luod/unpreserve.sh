#!/usr/bin/env bash
# Rollback step unpreserve: the VMMs drop their preserved fds and luod closes the session.
# CANNOT RUN HERE; see common.sh. Safe when preserve never ran or ran half-way.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request

mapfile -t vms < <(running_vms)
for vm in "${vms[@]}"; do
  "$VMMCTL" live-update cancel --vm "$vm" --session "$SESSION" --if-prepared
done
"$LUOCTL" session destroy --name "$SESSION" --if-present
log "session $SESSION closed"
