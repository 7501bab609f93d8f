#!/usr/bin/env bash
# Builds vfio-inspect (release) and runs it on this host. Arguments go to vfio-inspect;
# with none it runs `list`.
#   Scripts/run.sh                 every PCI function with its driver, group and flags
#   Scripts/run.sh list --json
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release --product vfio-inspect >&2
bin=$(swift build -c release --show-bin-path)/vfio-inspect
if [[ $# -eq 0 ]]; then set -- list; fi
exec "$bin" "$@"
