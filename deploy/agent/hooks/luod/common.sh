# shellcheck shell=bash
# Shared by the VMM hooks of the agent's Live Update driver (agent config `liveupdate`). The agent
# itself holds /dev/liveupdate, the sessions and the kexec (see ../../README.md); these hooks are
# only the VMM's part. THEY CANNOT RUN IN THIS REPOSITORY'S TEST ENVIRONMENT as they are: `vmmctl`
# below stands for the site's VMM control tool (cloud-hypervisor's ch-remote, a QEMU QMP wrapper,
# ...), and its command lines are the integration points to adapt. test/kernel/guest/vmm.mjs is a
# working set of the same hooks for the stand-in VMs of the kernel tests.
#
# Contract with the agent (apps/agent): the request arrives as JSON on stdin, never in argv; exit 0
# means done, anything else failed; stdout/stderr end up (last 20 lines) in the orchestrator's
# journal; the agent kills the process group at the configured timeout. Every step may be run again
# with the same request after an agent crash, so each one checks before it acts.
set -euo pipefail
umask 077

# Overridable only through the agent config (command /usr/bin/env, args ["VMMCTL=...", "<script>"]):
# the agent passes hooks no environment of its own beyond PATH, LANG and LUO_AGENT_*.
VMMCTL=${VMMCTL:-/usr/local/sbin/vmmctl}

log() { printf '%s %s: %s\n' "$(date -u +%FT%TZ)" "${LUO_AGENT_STEP:-hook}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v jq >/dev/null || die "jq is required"

# Every VM the VMM runs on this host. All of them must survive the kexec, not only those with
# passthrough devices: a VM left out of the sessions would simply die with the old kernel.
running_vms() {
  "$VMMCTL" list --json | jq -r '.[].id'
}

vm_state() {
  "$VMMCTL" info --vm "$1" --json | jq -r '.state'
}
