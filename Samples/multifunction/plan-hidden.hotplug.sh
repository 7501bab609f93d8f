#!/bin/sh
# vfio-inspect plan for a q35 guest: 0000:01:00.0 0000:01:00.2
# Unit: IOMMU group 4 = 0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:01:00.3
# Added (whole IOMMU group): 0000:01:00.1: an endpoint in the same IOMMU group, held unassigned (detached from the host, not shown to the guest)
# Added (whole IOMMU group): 0000:01:00.3: an endpoint in the same IOMMU group, held unassigned (detached from the host, not shown to the guest)
# Guest slot 0x00 below pcie-root-port 1: 0000:01:00.0 at function 0 (multifunction='on'), 0000:01:00.2 at function 2
# To bind to vfio-pci: 0000:01:00.0 (e1000e), 0000:01:00.1 (nvme), 0000:01:00.2 (virtio-pci), 0000:01:00.3 (e1000e)
# Backend: the legacy container (each group's /dev/vfio/N); --backend iommufd plans the iommufd form
# WARN migration-unknown: Whether the unit can be live-migrated is unknown for 0000:01:00.0, 0000:01:00.1, 0000:01:00.2, 0000:01:00.3: which VFIO driver it will have, or whether that driver migrates, is unknown.
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

# libvirt hot-plugs only function 0 of a guest slot (it refuses others: "Only PCI device addresses with
# function=0 are supported") and will not hot-unplug a device whose guest slot is multifunction. So the
# steps for 0000:01:00.2, 0000:01:00.0, 0000:01:00.1, 0000:01:00.3 change only the persistent definition (--config),
# in the order QEMU needs (functions N>0 first, function 0 last); they take effect at the next cold start.
# The hidden members of the same IOMMU group follow them: while the group is in use, none may go back to the host.
# Every other step is live and persistent (--live --config).

action="${2:-attach}"
case "$action" in attach|detach) ;; *) echo "usage: sh $0 DOMAIN [attach|detach]; '$action' is neither" >&2; exit 64 ;; esac
if [ "$action" = attach ]; then
# 1. Detach every function VFIO must hold from its host driver (the hidden ones too).
virsh nodedev-detach pci_0000_01_00_0
virsh nodedev-detach pci_0000_01_00_1
virsh nodedev-detach pci_0000_01_00_2
virsh nodedev-detach pci_0000_01_00_3

# 2. Attach 0000:01:00.1: unassigned: libvirt holds it for the guest, which does not see it
cat > "$dir/attach-0000_01_00_1.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>
  </source>
  <alias name='ua-vfio-0000-01-00-1'/>
  <address type='unassigned'/>
</hostdev>
EOF
virsh attach-device "$DOMAIN" "$dir/attach-0000_01_00_1.xml" --config

# 3. Attach 0000:01:00.3: unassigned: libvirt holds it for the guest, which does not see it
cat > "$dir/attach-0000_01_00_3.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x3'/>
  </source>
  <alias name='ua-vfio-0000-01-00-3'/>
  <address type='unassigned'/>
</hostdev>
EOF
virsh attach-device "$DOMAIN" "$dir/attach-0000_01_00_3.xml" --config

# 4. Attach 0000:01:00.2: guest controller 1 slot 0x00 function 2
cat > "$dir/attach-0000_01_00_2.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x2'/>
  </source>
  <alias name='ua-vfio-0000-01-00-2'/>
  <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x2'/>
</hostdev>
EOF
virsh attach-device "$DOMAIN" "$dir/attach-0000_01_00_2.xml" --config

# 5. Attach 0000:01:00.0: guest controller 1 slot 0x00 function 0, multifunction='on', last: it completes the slot
cat > "$dir/attach-0000_01_00_0.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
  </source>
  <alias name='ua-vfio-0000-01-00-0'/>
  <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0' multifunction='on'/>
</hostdev>
EOF
virsh attach-device "$DOMAIN" "$dir/attach-0000_01_00_0.xml" --config

fi

# Detach sequence (sh THIS-FILE DOMAIN detach): functions N>0 first, function 0 last, then the hidden ones.
if [ "$action" = detach ]; then
# 1. Detach 0000:01:00.2: guest controller 1 slot 0x00 function 2
cat > "$dir/detach-0000_01_00_2.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x2'/>
  </source>
  <alias name='ua-vfio-0000-01-00-2'/>
  <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x2'/>
</hostdev>
EOF
virsh detach-device "$DOMAIN" "$dir/detach-0000_01_00_2.xml" --config

# 2. Detach 0000:01:00.0: guest controller 1 slot 0x00 function 0
cat > "$dir/detach-0000_01_00_0.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
  </source>
  <alias name='ua-vfio-0000-01-00-0'/>
  <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0' multifunction='on'/>
</hostdev>
EOF
virsh detach-device "$DOMAIN" "$dir/detach-0000_01_00_0.xml" --config

# 3. Detach 0000:01:00.1: unassigned
cat > "$dir/detach-0000_01_00_1.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>
  </source>
  <alias name='ua-vfio-0000-01-00-1'/>
  <address type='unassigned'/>
</hostdev>
EOF
virsh detach-device "$DOMAIN" "$dir/detach-0000_01_00_1.xml" --config

# 4. Detach 0000:01:00.3: unassigned
cat > "$dir/detach-0000_01_00_3.xml" <<'EOF'
<hostdev mode='subsystem' type='pci' managed='yes'>
  <source>
    <address domain='0x0000' bus='0x01' slot='0x00' function='0x3'/>
  </source>
  <alias name='ua-vfio-0000-01-00-3'/>
  <address type='unassigned'/>
</hostdev>
EOF
virsh detach-device "$DOMAIN" "$dir/detach-0000_01_00_3.xml" --config

fi
# managed='yes': libvirt gives each function back to its host driver on detach (virsh nodedev-reattach otherwise).
