#!/bin/busybox sh
# PID 1 of every boot of the test guest, from its initramfs (busybox only): mounts the host's root
# read-only over virtio-9p and the harness's per-guest share read-write (it survives kexec: the
# agent's state dir lives there), configures the user-mode network, then chroots into the host's
# root and hands PID 1 to boot.sh there. Every kexec runs this again, so every boot starts the agent.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t devtmpfs dev /dev
echo "luo-guest: init at uptime $(cut -d' ' -f1 /proc/uptime)"
fail() { echo "luo-guest: init failed: $*"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /newroot || fail "mount hostroot"
mount -t proc proc /newroot/proc || fail "mount proc"
mount -t sysfs sys /newroot/sys || fail "mount sys"
mount -t devtmpfs dev /newroot/dev || fail "mount dev"
# No tmpfs over /tmp: the repository the agent runs from may itself live under the host's /tmp (a
# fresh clone in CI); scratch space is /run/tmp instead.
mount -t tmpfs -o mode=755 run /newroot/run || fail "mount run"
mkdir -p -m 1777 /newroot/run/tmp
mkdir -p /newroot/run/luo-guest
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 guest /newroot/run/luo-guest || fail "mount guest share"
ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 || echo "luo-guest: no eth0"
exec chroot /newroot /bin/sh /run/luo-guest/boot.sh
