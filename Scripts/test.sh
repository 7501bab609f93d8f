#!/usr/bin/env bash
# Installs what the tests need (libpci-dev, pciutils for the real lspci, pci.ids, the fleet formats' consumers) and runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --test
# An x86_64 guest kernel the plan tests boot to see what a real guest enumerates (downloaded and unpacked, never installed).
VFIO_INSPECT_GUEST_KERNEL=$(Scripts/guest-kernel.sh)
export VFIO_INSPECT_GUEST_KERNEL
# The fleet formats' PyPI consumers (ansible-core, prometheus-client, kubernetes-validate, Nova, PyYAML) in a venv.
VFIO_INSPECT_FLEET_TOOLS=$(Scripts/fleet-tools.sh)
export VFIO_INSPECT_FLEET_TOOLS
exec swift test "$@"
