#!/usr/bin/env bash
# Prints the path of an x86_64 kernel with iommufd and the VFIO device cdev, for the VFIO harness's topologies
# that set KERNEL=iommufd (Scripts/guest-vfio.sh). No distribution kernel package here enables CONFIG_IOMMUFD
# (Debian's 6.1, 6.12 and later leave it unset), so this builds one from Debian's own source package
# (linux-source-6.12, or the distribution's linux-source; fetched with apt-get download, never installed): `make tinyconfig`, the options of
# Scripts/guest/iommufd-kernel.config, everything built in. About 5 minutes on two cores, once: the image is
# cached in .build/guest-kernel-iommufd/ under a key of the source version and the options.
# Needs gcc, make, flex, bison, bc and libelf-dev (Scripts/install-deps.sh --test installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "guest-kernel-iommufd: $*" >&2; exit 1; }
fragment=Scripts/guest/iommufd-kernel.config
cache=.build/guest-kernel-iommufd
# Debian's linux-source-6.12 (bookworm-security, trixie); elsewhere the version behind the linux-source meta
# package (Ubuntu's linux-source-6.8.0, …): any 6.6+ tree has the VFIO cdev.
pick() {
    package=linux-source-6.12
    version=$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [[ -z "$version" || "$version" == "(none)" ]]; then
        package=$(apt-cache depends linux-source 2>/dev/null | awk '/Depends: linux-source-[0-9]/ { print $2; exit }')
        version=$([[ -n "$package" ]] && apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    fi
}
pick
if [[ -z "$version" || "$version" == "(none)" ]]; then
    sudo=(); [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    pick
fi
[[ -n "$version" && "$version" != "(none)" ]] || fail "no linux-source package in the configured archives"
key=$( (echo "$package $version"; cat "$fragment") | sha256sum | cut -c1-16)
if [[ -r "$cache/$key/vmlinuz" ]]; then
    echo "$PWD/$cache/$key/vmlinuz"; exit 0
fi
for t in gcc make flex bison bc; do command -v "$t" >/dev/null || fail "$t is missing (Scripts/install-deps.sh --test installs it)"; done
[[ -r /usr/include/gelf.h ]] || fail "libelf-dev is missing (Scripts/install-deps.sh --test installs it)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "guest-kernel-iommufd: building $package $version with iommufd (once; cached in $cache/$key)" >&2
( cd "$work" && apt-get download -qq "$package=$version" >/dev/null 2>&1 ) || fail "apt-get download $package=$version failed"
dpkg-deb -x "$work"/*.deb "$work/pkg"
# Debian ships usr/src/linux-source-X.Y.tar.xz, Ubuntu usr/src/linux-source-X.Y.Z/linux-source-X.Y.Z.tar.bz2.
shopt -s nullglob
tarballs=("$work"/pkg/usr/src/linux-source-*.tar.* "$work"/pkg/usr/src/linux-source-*/linux-source-*.tar.*)
shopt -u nullglob
[[ ${#tarballs[@]} -gt 0 ]] || fail "$package holds no linux-source tarball"
tarball=${tarballs[0]}
tar -xaf "$tarball" -C "$work"
rm -rf "$work/pkg"
src=$(ls -d "$work"/linux-source-*/ | head -1)
grep -v '^#' "$fragment" > "$work/fragment.config"
make -C "$src" -s tinyconfig >/dev/null
( cd "$src" && scripts/kconfig/merge_config.sh -m .config "$work/fragment.config" >/dev/null )
make -C "$src" -s olddefconfig >/dev/null
# Every option asked for must have survived olddefconfig (a dependency it lacks drops it silently).
while IFS== read -r option value; do
    [[ -z "$option" ]] && continue
    grep -qx "$option=$value" "$src/.config" || fail "$option=$value did not survive olddefconfig (see $fragment)"
done < "$work/fragment.config"
make -C "$src" -s -j"$(nproc)" bzImage >"$work/build.log" 2>&1 || fail "the build failed: $(tail -20 "$work/build.log")"
mkdir -p "$cache/$key/modules"
cp "$src/arch/x86/boot/bzImage" "$cache/$key/vmlinuz.tmp"
cp "$src/.config" "$cache/$key/config"
make -C "$src" -s kernelrelease > "$cache/$key/RELEASE"
# Everything is built in: the harness's module list is empty.
: > "$cache/$key/modules/modules.order"
mv "$cache/$key/vmlinuz.tmp" "$cache/$key/vmlinuz"
echo "$PWD/$cache/$key/vmlinuz"
