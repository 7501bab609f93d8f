#!/usr/bin/env bash
# Benchmarks on the 1,036-function SR-IOV snapshot (../shared/fixtures/large.tar.gz).
# Prints figures; asserts nothing. Usage: Scripts/benchmark.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
tarball=../shared/fixtures/large.tar.gz
[[ -f $tarball ]] || { echo "benchmark: $tarball not found (needs ../shared beside the repository)" >&2; exit 1; }
Scripts/install-deps.sh
swift build -c release --product vfio-inspect >&2
bin=$(swift build -c release --show-bin-path)/vfio-inspect
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
root=$work/large

median_ms() { # command...
    local times=()
    for ((i = 0; i < runs; i++)); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null
        end=$(date +%s%N)
        times+=($(((end - start) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

functions=$("$bin" list --root "$root" | wc -l)
echo "snapshot: $root ($functions functions)"
echo "list (text):       $(median_ms "$bin" list --root "$root") ms (median of $runs)"
echo "list --json:       $(median_ms "$bin" list --root "$root" --json) ms"
echo "report --json:     $(median_ms "$bin" report --root "$root" --json) ms (decodes every capability, predicts 1,034 groups)"
echo "groups:            $(median_ms "$bin" groups --root "$root") ms"
vfs=$("$bin" list --root "$root" | awk '/VF of/ { print $1 }')
pf_vfs=$("$bin" list --root "$root" | awk '/VF of 0000:01:00.0/ { print $1 }')
# shellcheck disable=SC2086
echo "plan (127 VFs of one PF, --json): $(median_ms sh -c '"$0" plan --root "$1" --json $2 || true' "$bin" "$root" "$pf_vfs") ms"
# shellcheck disable=SC2086
echo "plan (all $(echo "$vfs" | wc -l) VFs, --json, refused: over 255 controllers): $(median_ms sh -c '"$0" plan --root "$1" --json $2 || true' "$bin" "$root" "$vfs") ms"
n=0
snapshot_once() { n=$((n + 1)); "$bin" snapshot --root "$root" "$work/copy-$n"; }
echo "snapshot:          $(median_ms snapshot_once) ms (removing the copies is not timed)"
if command -v strace >/dev/null; then
    strace -f -qq -e trace=pread64 -o "$work/trace" "$bin" list --root "$root" >/dev/null
    calls=$(grep -c 'pread64(' "$work/trace" || true)
    bytes=$(grep -oE '= [0-9]+$' "$work/trace" | awk '{s += $2} END {print s + 0}')
    echo "config reads (list): $calls pread calls, $bytes bytes ($((bytes / functions)) bytes per function)"
    strace -f -qq -e trace=pread64 -o "$work/trace" "$bin" report --root "$root" >/dev/null
    calls=$(grep -c 'pread64(' "$work/trace" || true)
    bytes=$(grep -oE '= [0-9]+$' "$work/trace" | awk '{s += $2} END {print s + 0}')
    echo "config reads (report): $calls pread calls, $bytes bytes ($((bytes / functions)) bytes per function, of 4096)"
else
    echo "config reads: install strace to count them"
fi
