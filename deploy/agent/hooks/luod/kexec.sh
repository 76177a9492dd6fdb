#!/usr/bin/env bash
# Step kexec: the point of no return. CANNOT RUN HERE; see common.sh.
# `kexec --exec` calls reboot(LINUX_REBOOT_CMD_KEXEC), which freezes every preserved file and either
# never returns (the agent dies with the old kernel; the orchestrator then waits for a new boot id)
# or returns an error, meaning nothing happened: we exit non-zero at once, the agent reports
# rebootReturned, and the orchestrator rolls back (thaw, unpreserve, kexec_unload).
# Not idempotent, and never run twice: the agent refuses a second kexec for the same request.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request

[[ $(</sys/kernel/kexec_loaded) == 1 ]] || die "no kexec image loaded"
"$LUOCTL" session status --name "$SESSION" --json >/dev/null || die "session $SESSION missing"
sync
log "rebooting into $TARGET_KERNEL"
if ! "$KEXEC" --exec; then
  die "reboot(LINUX_REBOOT_CMD_KEXEC) returned: nothing happened"
fi
die "kexec --exec returned success without rebooting"
