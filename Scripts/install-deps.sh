#!/usr/bin/env bash
# Installs what vfio-inspect needs on Debian/Ubuntu, only when it is missing.
#   Scripts/install-deps.sh          build and run: libpci-dev, pciutils, pci.ids, pkg-config
#   Scripts/install-deps.sh --test   also the real tools the tests call
#   Scripts/install-deps.sh --bench  also what Scripts/bench measures with (strace, GNU time, valgrind; a C compiler for the read floor)
set -euo pipefail

packages=(libpci-dev pciutils pci.ids pkg-config)
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(strace gcc libc6-dev time valgrind)
fi
if [[ "${1:-}" == "--test" ]]; then
    # lspci is the cross-check oracle (pciutils, above). QEMU starts every generated guest topology
    # (slof.bin for pseries is in qemu-system-data); virt-xml-validate (with xmllint) checks every
    # generated domain XML against libvirt's schema. kmod's depmod makes the guest kernel's module alias table.
    packages+=(python3-jsonschema graphviz qemu-system-x86 qemu-system-ppc qemu-system-data libvirt-clients libxml2-utils kmod)
    # strace shows which files each command opens (no command reads a fact it neither prints nor decides with).
    packages+=(strace)
    # The VFIO harness (Scripts/guest-vfio.sh): a busybox-static initramfs packed with cpio, the probe linked
    # statically (gcc, libc6-dev), file to tell a static busybox.
    packages+=(busybox-static cpio gcc libc6-dev file xz-utils zstd)
    # The iommufd guest kernel, built from Debian's linux-source (Scripts/guest-kernel-iommufd.sh).
    packages+=(make flex bison bc libelf-dev)
    # The UEFI guest of the firmware-framebuffer topology (OVMF, as libvirt boots guests).
    packages+=(ovmf)
    # The fleet formats' consumers: promtool (prometheus) lints the textfile, a real node_exporter serves it,
    # kubectl applies NFD's labels with the API server's rules (Debian's kubernetes-client, unless a kubectl is
    # there already); python3-venv holds the PyPI consumers (Scripts/fleet-tools.sh).
    packages+=(prometheus prometheus-node-exporter python3-venv)
    command -v kubectl >/dev/null || packages+=(kubernetes-client)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "install-deps: missing ${missing[*]}, and this is not a Debian/Ubuntu system; install them by hand" >&2
    exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
