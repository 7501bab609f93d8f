#!/bin/sh
# vfio-inspect plan for a q35 guest: 0000:01:00.2
# Unit: IOMMU group 7 = 0000:01:00.2
# Guest slot 0x00 below pcie-root-port 1: 0000:01:00.2 at function 0
# Backend: the legacy container (each group's /dev/vfio/N); --backend iommufd plans the iommufd form
# UNKNOWN vfio-in-use: Whether a process (a running VM) holds /dev/vfio/7 open is unknown.
#   fix: include proc/PID/fd in the snapshot (`vfio-inspect snapshot` copies it)
# WARN not-migratable: The unit cannot be live-migrated: 0000:01:00.2 (vfio-pci does not implement VFIO migration). A VM holding it must stop to move; assignment is not affected.
# INFO plan-vf-own-slot: 0000:01:00.2 is a VF: it goes to function 0 of a guest slot of its own (a VF is not part of a multifunction device; its address is the PF's plus the SR-IOV offset and stride).
# INFO plan-extended-config: 0000:01:00.2: QEMU's vfio-pci hides Alternative Routing-ID Interpretation from the guest; its other extended capabilities are exposed below the root port.
#
# Usage: sh THIS-FILE DOMAIN [attach|detach]   (a running q35 guest)
set -eu
DOMAIN="${1:?usage: sh $0 DOMAIN}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Prerequisite: libvirt cannot hot-add PCI controllers, so the domain must already have these when it starts
# (virsh edit "$DOMAIN", then power it off and start it; --format libvirt shows them in place):
#   <controller type='pci' index='1' model='pcie-root-port'>
#     <target chassis='1' port='0x01'/>
#   </controller>

action="${2:-attach}"
case "$action" in attach|detach) ;; *) echo "usage: sh $0 DOMAIN [attach|detach]; '$action' is neither" >&2; exit 64 ;; esac
if [ "$action" = attach ]; then
# 1. Detach every function VFIO must hold from its host driver (the hidden ones too).
virsh nodedev-detach pci_0000_01_00_2

# 2. Attach 0000:01:00.2: guest controller 1 slot 0x00 function 0
cat > "$dir/attach-0000_01_00_2.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x2'/>
  </source>
  <alias name='ua-vfio-0000-01-00-2'/>
  <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
</hostdev>
EOF
virsh attach-device "$DOMAIN" "$dir/attach-0000_01_00_2.xml" --live --config

fi

# Detach sequence (sh THIS-FILE DOMAIN detach): functions N>0 first, function 0 last, then the hidden ones.
if [ "$action" = detach ]; then
# 1. Detach 0000:01:00.2: guest controller 1 slot 0x00 function 0
cat > "$dir/detach-0000_01_00_2.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x2'/>
  </source>
  <alias name='ua-vfio-0000-01-00-2'/>
  <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
</hostdev>
EOF
virsh detach-device "$DOMAIN" "$dir/detach-0000_01_00_2.xml" --live --config

fi
# managed='yes': libvirt gives each function back to its host driver on detach (virsh nodedev-reattach otherwise).
