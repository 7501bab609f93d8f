#!/usr/bin/env bash
# Prints the path of an x86_64 Linux kernel image the tests boot under QEMU to see what a real guest enumerates.
# It never installs a kernel on this machine: it uses $VFIO_INSPECT_GUEST_KERNEL, or a copy cached in
# .build/guest-kernel/, or downloads the distribution's kernel package with apt-get download and unpacks
# only the image from it (dpkg-deb -x) into that cache. Beside it goes the kernel's module alias table, made from
# the package's own modules by kmod's depmod (the package ships modules, not the table), with its RELEASE:
# the tests match real sysfs modalias files against it, as lspci -k does.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${VFIO_INSPECT_GUEST_KERNEL:-}" ]]; then
    [[ -r "$VFIO_INSPECT_GUEST_KERNEL" ]] || { echo "guest-kernel: $VFIO_INSPECT_GUEST_KERNEL is not readable" >&2; exit 1; }
    echo "$VFIO_INSPECT_GUEST_KERNEL"; exit 0
fi
cache=.build/guest-kernel
# The modules the VFIO harness (Scripts/guest-vfio.sh) loads; their dependencies come with them.
harness_modules="vfio_iommu_type1 vfio-pci crct10dif_generic crc64_rocksoft_generic nvme e1000e e1000 ext4 bochs virtio_pci virtio_iommu"
if [[ -r "$cache/vmlinuz" && -r "$cache/modules.alias" && "$(cat "$cache/modules/LIST" 2>/dev/null)" == "$harness_modules" ]]; then
    echo "$PWD/$cache/vmlinuz"; exit 0
fi
command -v apt-get >/dev/null || { echo "guest-kernel: no apt-get; set VFIO_INSPECT_GUEST_KERNEL to an x86_64 bzImage" >&2; exit 1; }

# The versioned package behind the distribution's meta package (Debian linux-image-amd64, Ubuntu linux-image-virtual).
package=""
for meta in linux-image-amd64 linux-image-virtual linux-image-generic; do
    package=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }') || true
    [[ -n "$package" ]] && break
done
sudo=()
[[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo=(sudo)
if [[ -z "$package" ]]; then
    "${sudo[@]}" apt-get update -qq
    for meta in linux-image-amd64 linux-image-virtual linux-image-generic; do
        package=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }') || true
        [[ -n "$package" ]] && break
    done
fi
[[ -n "$package" ]] || { echo "guest-kernel: no kernel package found; set VFIO_INSPECT_GUEST_KERNEL" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "guest-kernel: downloading $package (unpacked into $cache, not installed)" >&2
( cd "$work" && apt-get download -qq "$package" >/dev/null 2>&1 ) || { "${sudo[@]}" apt-get update -qq; ( cd "$work" && apt-get download -qq "$package" >/dev/null ); }
dpkg-deb -x "$work"/*.deb "$work/x"
# Ubuntu ships the modules in a package of their own (linux-modules-RELEASE).
if ! ls -d "$work"/x/lib/modules/*/kernel >/dev/null 2>&1; then
    rel=$(basename "$(ls "$work"/x/boot/vmlinuz-* | head -1)"); rel=${rel#vmlinuz-}
    ( cd "$work" && apt-get download -qq "linux-modules-$rel" >/dev/null 2>&1 && dpkg-deb -x linux-modules-"$rel"_*.deb x ) || true
fi
image=$(ls "$work"/x/boot/vmlinuz-* 2>/dev/null | head -1)
[[ -n "$image" ]] || { echo "guest-kernel: $package holds no boot/vmlinuz-*" >&2; exit 1; }
mkdir -p "$cache"
release=$(basename "$image"); release=${release#vmlinuz-}
if command -v depmod >/dev/null || [[ -x /usr/sbin/depmod ]]; then
    PATH=$PATH:/usr/sbin depmod -b "$work/x" "$release"
    cp "$work/x/lib/modules/$release/modules.alias" "$cache/modules.alias.tmp" && mv "$cache/modules.alias.tmp" "$cache/modules.alias"
    echo "$release" > "$cache/RELEASE"
else
    echo "guest-kernel: no depmod (Debian package kmod): the module alias table is not made" >&2
fi
# The modules the VFIO harness (Scripts/guest-vfio.sh) loads, with their dependencies in load order (kmod's
# modprobe --show-depends against the unpacked tree), and the kernel's config (which IOMMUs it has).
rm -rf "$cache/modules"; mkdir -p "$cache/modules"
cp "$work/x/boot/config-$release" "$cache/config" 2>/dev/null || true
# Modules may be compressed (.ko.xz, .ko.zst, .ko.gz: Debian 13, Ubuntu): they are stored decompressed, as
# busybox's insmod reads them. A module this kernel does not have (virtio_iommu on Debian 12) is left out, said.
order=()
for module in $harness_modules; do
    deps=$(PATH=$PATH:/usr/sbin modprobe -d "$work/x" -S "$release" --show-depends "$module" 2>&1) || {
        echo "guest-kernel: $release has no module $module (${deps%%$'\n'*})" >&2; continue; }
    while read -r verb path _; do
        [[ "$verb" == insmod ]] || continue
        rel=${path#"$work/x/lib/modules/$release/"}
        base=$rel
        for ext in .ko.xz .ko.zst .ko.gz .ko; do [[ "$rel" == *"$ext" ]] && { base=${rel%"$ext"}; break; }; done
        [[ " ${order[*]-} " == *" $base "* ]] && continue
        order+=("$base")
        mkdir -p "$cache/modules/$(dirname "$base")"
        case "$rel" in
            *.ko.xz) xz -dc "$path" > "$cache/modules/$base.ko" ;;
            *.ko.zst) zstd -qdc "$path" > "$cache/modules/$base.ko" ;;
            *.ko.gz) gzip -dc "$path" > "$cache/modules/$base.ko" ;;
            *) cp "$path" "$cache/modules/$base.ko" ;;
        esac
    done <<< "$deps"
done
printf '%s\n' "${order[@]}" > "$cache/modules/modules.order"
echo "$harness_modules" > "$cache/modules/LIST"
cp "$image" "$cache/vmlinuz.tmp" && mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
echo "$package" > "$cache/PACKAGE"
echo "$PWD/$cache/vmlinuz"
