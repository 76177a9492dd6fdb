# shellcheck shell=bash
# Shared by the luod hook set. THESE HOOKS CANNOT RUN IN THIS REPOSITORY'S TEST ENVIRONMENT: they
# need a kernel booted with `liveupdate=on kho=on`, /dev/liveupdate owned by luod, luod's `luoctl`,
# kexec-tools, and a VMM control tool (`vmmctl` below stands for the site's: cloud-hypervisor's
# ch-remote, a QEMU QMP wrapper, ...). Command names and flags of luoctl/vmmctl are the integration
# points to adapt; the structure (what each step must do, idempotently) is what matters.
#
# Contract with the agent (apps/agent): the request arrives as JSON on stdin, never in argv; exit 0
# means done, anything else failed; stdout/stderr end up (last 20 lines) in the orchestrator's
# journal; the agent kills the process group at the configured timeout. Every step may be run again
# with the same request after an agent crash, so each one checks before it acts.
set -euo pipefail
umask 077

# Overridable only through the agent config (command /usr/bin/env, args ["LUOCTL=...", "<script>"]):
# the agent passes hooks no environment of its own beyond PATH, LANG and LUO_AGENT_*.
LUOCTL=${LUOCTL:-/usr/bin/luoctl}
VMMCTL=${VMMCTL:-/usr/local/sbin/vmmctl}
KEXEC=${KEXEC:-/usr/sbin/kexec}
BOOT_DIR=${BOOT_DIR:-/boot}

log() { printf '%s %s: %s\n' "$(date -u +%FT%TZ)" "${LUO_AGENT_STEP:-hook}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Reads the request from stdin into REQUEST_* variables, re-checking what the agent already checked:
# these values end up in file names and command arguments below.
read_request() {
  command -v jq >/dev/null || die "jq is required"
  REQUEST=$(cat)
  jq -e 'type == "object"' >/dev/null <<<"$REQUEST" || die "stdin is not a JSON object"
  REQUEST_ID=$(jq -r '.requestId' <<<"$REQUEST")
  HANDOVER_ID=$(jq -r '.handoverId' <<<"$REQUEST")
  TARGET_KERNEL=$(jq -r '.targetKernel' <<<"$REQUEST")
  [[ $TARGET_KERNEL =~ ^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$ ]] || die "targetKernel '$TARGET_KERNEL' is not a kernel release"
  # One live-update session per handover; luod session names are short tokens, so hash the id.
  SESSION="luo-fleet-$(printf '%s' "$HANDOVER_ID" | sha256sum | cut -c1-16)"
  mapfile -t PRESERVED_BDFS < <(jq -r '.preservationSet.devices[] | select(.preservable) | .bdf' <<<"$REQUEST")
  local bdf
  for bdf in "${PRESERVED_BDFS[@]}"; do
    [[ $bdf =~ ^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || die "bad BDF '$bdf' in preservationSet"
  done
  log "request $REQUEST_ID session $SESSION target $TARGET_KERNEL devices ${PRESERVED_BDFS[*]:-none}"
}

# Every VM the VMM runs on this host. All of them must survive the kexec, not only those with
# passthrough devices: a VM left out of the session would simply die with the old kernel.
running_vms() {
  "$VMMCTL" list --json | jq -r '.[].id'
}

vm_state() {
  "$VMMCTL" info --vm "$1" --json | jq -r '.state'
}

require_luo() {
  [[ -e /dev/liveupdate ]] || die "/dev/liveupdate missing: kernel not booted with liveupdate=on kho=on"
  local cmdline
  cmdline=$(</proc/cmdline)
  [[ " $cmdline " == *" liveupdate=on "* && " $cmdline " == *" kho=on "* ]] || die "running kernel lacks liveupdate=on kho=on"
}
