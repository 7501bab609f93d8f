#!/usr/bin/env bash
# Builds vfio-inspect (release) and runs it on this host. Arguments go to vfio-inspect;
# with none it runs `report`.
#   Scripts/run.sh                 every IOMMU group with its verdict and findings
#   Scripts/run.sh check 01:00.0   readiness of one planned assignment (exit 0/1/2)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
# The Swift runtime and Foundation linked in (--static-swift-stdlib): one binary that needs only libpci3 on the
# host, starting in about 5 ms and 14 MiB instead of 15 ms and 21 MiB for loading twenty shared libraries.
swift build -c release --static-swift-stdlib --product vfio-inspect >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/vfio-inspect
if [[ $# -eq 0 ]]; then set -- report; fi
exec "$bin" "$@"
