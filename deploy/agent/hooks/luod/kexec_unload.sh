#!/usr/bin/env bash
# Rollback step kexec_unload: drop the staged kernel so that no later reboot uses it.
# CANNOT RUN HERE; see common.sh. Safe when nothing is loaded.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request

"$KEXEC" --unload
[[ $(</sys/kernel/kexec_loaded) == 0 ]] || die "/sys/kernel/kexec_loaded is still 1"
log "kexec image unloaded"
