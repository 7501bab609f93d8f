#!/usr/bin/env bash
# Boots a real kernel under QEMU (TCG) with an emulated IOMMU and one PCI topology, runs vfio-inspect live in it
# as root, asks VFIO itself (Scripts/guest/vfio-probe.c), executes the fixes vfio-inspect prints and asks again.
#
#   Scripts/guest-vfio.sh TOPOLOGY OUTDIR [TOOL]
#
# TOPOLOGY is a file of Tests/Fixtures/guests/ (bash: IOMMU=intel|amd|virtio, QEMU=(device arguments),
# GUEST="words for the guest's init", DRIVES="ids of 16 MiB raw drives", KERNEL=package|iommufd: the
# distribution's kernel package, or one built with iommufd and the VFIO cdev by Scripts/guest-kernel-iommufd.sh). TOOL is the vfio-inspect binary
# (default .build/debug/vfio-inspect). The guest's results land in OUTDIR/out/ (report.json, snapshot.tar,
# per group: members, check and probe before and after the fixes, the fix script and its log, dmesg), its
# console in OUTDIR/console.log.
#
# The guest is an initramfs made here (cached in .build/guest-vfio/): busybox-static as init, the kernel
# package's own modules (Scripts/guest-kernel.sh keeps them), the tool with the shared libraries ldd names, and
# the probe built with gcc -static. Nothing adds a PCI function the topology did not ask for (-nodefaults, no
# disk or network of the harness's own: results leave over the serial console).
# Exit: 0 results extracted; 77 the kernel lacks that IOMMU (its config says so); 1 anything else, with why.
set -euo pipefail
cd "$(dirname "$0")/.."
topology=${1:?usage: Scripts/guest-vfio.sh TOPOLOGY OUTDIR [TOOL]}
outdir=${2:?usage: Scripts/guest-vfio.sh TOPOLOGY OUTDIR [TOOL]}
tool=${3:-.build/debug/vfio-inspect}
fail() { echo "guest-vfio: $*" >&2; exit 1; }
[[ -r "$topology" ]] || fail "no topology file $topology"
[[ -x "$tool" ]] || fail "no tool binary at $tool (swift build first)"
for t in qemu-system-x86_64 gcc cpio busybox; do
    command -v "$t" >/dev/null || [[ -x "/bin/$t" ]] || fail "$t is missing (Scripts/install-deps.sh --test installs it)"
done

IOMMU=intel; QEMU=(); GUEST=""; DRIVES=""; KERNEL=package; FIRMWARE=seabios
# shellcheck disable=SC1090
source "$topology"
case "$KERNEL" in
    package) kernel=$(Scripts/guest-kernel.sh) ;;
    # iommufd and the VFIO device cdev, which no distribution kernel package here has: built from Debian's source.
    iommufd) kernel=$(Scripts/guest-kernel-iommufd.sh) ;;
    *) fail "unknown KERNEL '$KERNEL' in $topology" ;;
esac
kdir=$(dirname "$kernel")
[[ -r "$kdir/modules/modules.order" ]] || fail "$kdir/modules has no modules.order: the harness needs the kernel package's modules, which Scripts/guest-kernel.sh keeps (VFIO_INSPECT_GUEST_KERNEL names an image without them)"
case "$IOMMU" in
    intel) iommu=(-device intel-iommu,intremap=on); config=CONFIG_INTEL_IOMMU ;;
    amd) iommu=(-device amd-iommu); config=CONFIG_AMD_IOMMU ;;
    virtio) iommu=(-device virtio-iommu-pci); config=CONFIG_VIRTIO_IOMMU ;;
    *) fail "unknown IOMMU '$IOMMU' in $topology" ;;
esac
if [[ -r "$kdir/config" ]] && ! grep -q "^$config=[ym]" "$kdir/config"; then
    echo "guest-vfio: the kernel ($(cat "$kdir/RELEASE" 2>/dev/null)) is built without $config: no $IOMMU IOMMU to test" >&2
    exit 77
fi

# The initramfs, rebuilt when the tool, the init, the probe or the modules change.
cache=.build/guest-vfio
mkdir -p "$cache"
key=$(cat "$tool" Scripts/guest-vfio.sh Scripts/guest/init Scripts/guest/vfio-probe.c "$kdir/modules/modules.order" "$kdir/RELEASE" | sha256sum | cut -c1-16)
initrd="$cache/initramfs-$key.cpio"
if [[ ! -r "$initrd" ]]; then
    root=$(mktemp -d "$cache/root.XXXXXX")
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,lib/modules,usr/share/misc}
    bb=$(command -v busybox || echo /bin/busybox)
    file -L "$bb" 2>/dev/null | grep -q "statically linked" || fail "$bb is not static (install busybox-static)"
    cp "$bb" "$root/bin/busybox"
    for applet in $("$bb" --list); do [[ "$applet" == busybox ]] || ln -sf busybox "$root/bin/$applet"; done
    while read -r m; do
        mkdir -p "$root/lib/modules/$(dirname "$m")"
        cp "$kdir/modules/$m.ko" "$root/lib/modules/$m.ko"
    done < "$kdir/modules/modules.order"
    cp "$kdir/modules/modules.order" "$root/modules.order"
    cp Scripts/guest/init "$root/init"; chmod 755 "$root/init"
    gcc -static -O2 -Wall -o "$root/bin/vfio-probe" Scripts/guest/vfio-probe.c
    # The tool and every shared library it loads, at the paths it loads them from.
    strip -o "$root/bin/vfio-inspect" "$tool" 2>/dev/null || cp "$tool" "$root/bin/vfio-inspect"
    for lib in $(ldd "$tool" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    [[ -r /usr/share/misc/pci.ids ]] && cp /usr/share/misc/pci.ids "$root/usr/share/misc/pci.ids"
    # The kernel's own module alias table (depmod over the package's modules), where the tool looks for it: the
    # VFIO variant drivers (`vfio_pci:` aliases) are then known in the guest as on a real host.
    if [[ -r "$kdir/modules.alias" && -r "$kdir/RELEASE" ]]; then
        mkdir -p "$root/lib/modules/$(cat "$kdir/RELEASE")"
        cp "$kdir/modules.alias" "$root/lib/modules/$(cat "$kdir/RELEASE")/modules.alias"
    fi
    # Two runs with a cold cache each write their own file; the rename makes either complete one the cache.
    (cd "$root" && find . | cpio -o -H newc --quiet) > "$root.cpio"
    mv "$root.cpio" "$initrd"
    rm -rf "$root"
    trap - EXIT
fi

firmware=()
case "$FIRMWARE" in
    seabios) ;;
    # OVMF (UEFI): its GOP framebuffer is what the guest kernel's efifb/sysfb take over (BOOTFB in /proc/iomem).
    ovmf)
        code=/usr/share/OVMF/OVMF_CODE_4M.fd; [[ -r "$code" ]] || code=/usr/share/OVMF/OVMF_CODE.fd
        [[ -r "$code" ]] || fail "no OVMF (install Debian's ovmf: Scripts/install-deps.sh --test)"
        vars=$(ls /usr/share/OVMF/OVMF_VARS_4M.fd /usr/share/OVMF/OVMF_VARS.fd 2>/dev/null | head -1)
        [[ "$code" == *_4M* ]] && vars=/usr/share/OVMF/OVMF_VARS_4M.fd
        cp "$vars" "$outdir.vars.fd" 2>/dev/null || true
        firmware=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" -drive "if=pflash,format=raw,unit=1,file=$outdir.vars.fd") ;;
    *) fail "unknown FIRMWARE '$FIRMWARE' in $topology" ;;
esac
rm -rf "$outdir"; mkdir -p "$outdir/out"
drives=()
for d in $DRIVES; do
    truncate -s 16M "$outdir/$d.img"
    drives+=(-drive "if=none,id=$d,file=$outdir/$d.img,format=raw")
done
start=$(date +%s)
set +e
timeout 300 qemu-system-x86_64 -nodefaults -display none -vga none -net none -no-reboot \
    -machine q35,kernel-irqchip=split -accel tcg -m 1536 -smp 1 -serial "file:$outdir/console.log" -monitor none \
    "${iommu[@]}" "${firmware[@]}" "${drives[@]}" "${QEMU[@]}" \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 $([[ $IOMMU == intel ]] && echo intel_iommu=on) $GUEST" \
    > "$outdir/qemu.log" 2>&1
status=$?
set -e
echo "$(( $(date +%s) - start ))" > "$outdir/seconds"
[[ $status -eq 124 ]] && fail "the guest did not power off within 300 s (console: $outdir/console.log)"
[[ $status -ne 0 ]] && fail "qemu exited $status: $(head -c 2000 "$outdir/qemu.log")"
sed -n '/^=== BEGIN OUT/,/^=== END OUT/p' "$outdir/console.log" | sed '1d;$d' | tr -d '\r' | base64 -d 2>/dev/null | gzip -dc | tar -C "$outdir/out" -xf - \
    || fail "no results in the console (the guest stopped early?): $(tail -c 1500 "$outdir/console.log")"
[[ -s "$outdir/out/report.json" ]] || fail "the guest's report.json is empty: $(cat "$outdir/out/report.err" 2>/dev/null | head -c 1500)"
echo "guest-vfio: $(basename "$topology" .topology): $(cat "$outdir/seconds") s, results in $outdir/out" >&2
