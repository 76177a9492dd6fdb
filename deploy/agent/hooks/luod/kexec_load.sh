#!/usr/bin/env bash
# Step kexec_load: stage the target kernel. CANNOT RUN HERE (needs a real host); see common.sh.
# Idempotent: loading again replaces the staged image with the same one.
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request
require_luo

kernel="$BOOT_DIR/vmlinuz-$TARGET_KERNEL"
initrd="$BOOT_DIR/initrd.img-$TARGET_KERNEL"
[[ -f $kernel ]] || die "$kernel not installed"
[[ -f $initrd ]] || die "$initrd not installed"

# The new kernel gets the running command line, so it keeps liveupdate=on kho=on (checked above);
# a target that dropped them would boot unable to retrieve anything.
"$KEXEC" --load "$kernel" --initrd="$initrd" --reuse-cmdline
[[ $(</sys/kernel/kexec_loaded) == 1 ]] || die "kexec reported success but /sys/kernel/kexec_loaded is not 1"
log "staged $TARGET_KERNEL"
