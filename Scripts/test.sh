#!/usr/bin/env bash
# Installs what the tests need (libpci-dev, pciutils for the real lspci, pci.ids) and runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --test
exec swift test "$@"
