#!/bin/sh
# PID 1 inside the chroot (the host's own userspace, read-only): records what the kernel is, starts
# the stand-in VMs on the guest's first boot only (later boots get them back from the Live Update),
# and runs the agent, starting it again whenever it exits. Everything goes to the serial console.
G=/run/luo-guest
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/run/tmp TMPDIR=/run/tmp LANG=C.UTF-8
. "$G/guest.env"
echo "luo-guest: boot $(cat /proc/sys/kernel/random/boot_id) kernel $(uname -r) liveupdate=$( [ -e /dev/liveupdate ] && echo yes || echo no)"
# SR-IOV: every PF gets $SRIOV_NUMVFS VFs before anything is listed or bound, left without a
# driver; each line of sriov.<boot id> is a PF and the VFs its virtfn links name, as the kernel made them.
if [ "${SRIOV_NUMVFS:-0}" -gt 0 ]; then
  for pf in /sys/bus/pci/devices/*; do
    [ -e "$pf/sriov_totalvfs" ] || continue
    # The PF's driver enables VFs (nvme-pci: pci_sriov_configure_simple): wait for it to bind.
    n=0; while [ ! -e "$pf/driver" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
    echo 0 > "$pf/sriov_drivers_autoprobe"
    echo "$SRIOV_NUMVFS" > "$pf/sriov_numvfs" || echo "luo-guest: enabling $SRIOV_NUMVFS VFs on $(basename "$pf") failed" >&2
    echo "$(basename "$pf") $(for vf in "$pf"/virtfn*; do [ -e "$vf" ] && basename "$(readlink "$vf")"; done | tr '\n' ' ')"
  done > "$G/sriov.$(cat /proc/sys/kernel/random/boot_id)"
fi
for bdf in $VFIO_BDFS; do
  echo vfio-pci > "/sys/bus/pci/devices/$bdf/driver_override"
  [ -e "/sys/bus/pci/devices/$bdf/driver" ] && echo "$bdf" > "/sys/bus/pci/devices/$bdf/driver/unbind"
  echo "$bdf" > /sys/bus/pci/drivers_probe
done
# The kernel's own IOMMU groups, read by the shell: what the planner's reading is checked against.
# A few processes per group: in the background at the lowest priority, since the agent's start
# after a kexec must not wait for it; the file appears whole when it is done.
groups="$G/iommu-groups.$(cat /proc/sys/kernel/random/boot_id)"
nice -n 19 sh -c 'for g in /sys/kernel/iommu_groups/*; do
  [ -d "$g" ] && echo "$(basename "$g") $(ls "$g/devices" | tr "\n" " ")"
done > "$1.tmp"; mv "$1.tmp" "$1"' iommu-groups "$groups" &
if [ ! -e "$G/vms/started" ]; then
  mkdir -p "$G/vms"
  for vm in $VMS; do
    # id:sizeMiB:backing
    IFS=: read -r id size backing <<VM
$vm
VM
    setsid "$NODE" "$GUEST_DIR/vm.mjs" start "$id" "$size" "$backing" "$G/vms" </dev/null >>"$G/vms/$id.log" 2>&1 &
  done
  for vm in $VMS; do
    id=${vm%%:*}
    n=0; while [ ! -e "$G/vms/$id.json" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
  done
  touch "$G/vms/started"
  echo "luo-guest: VMs started: $VMS"
fi
while :; do
  echo "luo-guest: starting agent at uptime $(cut -d' ' -f1 /proc/uptime)"
  LUO_AGENT_CONFIG="$G/agent.json" "$NODE" "$AGENT_MAIN"
  echo "luo-guest: agent exited ($?)"
  sleep 1
done
