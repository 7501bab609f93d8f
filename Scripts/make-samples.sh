#!/usr/bin/env bash
# Re-records Samples/: a snapshot of three fixtures (made by `vfio-inspect snapshot`) and the
# outputs the README quotes. The golden test (SamplesTests) fails when these go stale;
# run this script after an intended output change and review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product vfio-inspect >&2
bin=$(swift build --show-bin-path)/vfio-inspect
for name in sriov multifunction host-in-use; do
    rm -rf "Samples/$name"
    mkdir -p "Samples/$name"
    "$bin" snapshot --root "Tests/Fixtures/sysfs/$name" "Samples/$name/root" >/dev/null
    cp "Tests/Fixtures/sysfs/$name/README.md" "Samples/$name/ABOUT.md"
    "$bin" list --root "Samples/$name/root" > "Samples/$name/list.txt"
    "$bin" list --root "Samples/$name/root" --json > "Samples/$name/list.json"
    NO_COLOR=1 "$bin" report --root "Samples/$name/root" > "Samples/$name/report.txt"
    "$bin" report --root "Samples/$name/root" --json > "Samples/$name/report.json"
done
echo "Samples re-recorded; review with git diff Samples/" >&2
