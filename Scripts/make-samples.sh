#!/usr/bin/env bash
# Re-records Samples/: a snapshot of three fixtures (made by `vfio-inspect snapshot`) and the
# outputs the README quotes. The golden test (SamplesTests) fails when these go stale;
# run this script after an intended output change and review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product vfio-inspect >&2
bin=$(swift build --show-bin-path)/vfio-inspect
# The NFD sample's expiry moves with the clock: the recorded file is kept below when nothing else changed.
nfd_old=$(mktemp)
[[ -f Samples/sriov/fleet/vfio-inspect ]] && cp Samples/sriov/fleet/vfio-inspect "$nfd_old"
for name in sriov multifunction host-in-use; do
    rm -rf "Samples/$name"
    mkdir -p "Samples/$name"
    "$bin" snapshot --root "Tests/Fixtures/sysfs/$name" "Samples/$name/root" >/dev/null
    cp "Tests/Fixtures/sysfs/$name/README.md" "Samples/$name/ABOUT.md"
    "$bin" list --root "Samples/$name/root" > "Samples/$name/list.txt"
    "$bin" list --root "Samples/$name/root" --json > "Samples/$name/list.json"
    NO_COLOR=1 "$bin" report --root "Samples/$name/root" > "Samples/$name/report.txt"
    "$bin" report --summary --root "Samples/$name/root" > "Samples/$name/summary.txt"
    "$bin" report --root "Samples/$name/root" --json > "Samples/$name/report.json"
done
# Plans (exit 1: planned with preparation to do; 4: planned, something that decides readiness is unknown).
plan() { local out=$1; shift; "$bin" plan "$@" > "$out" || { local rc=$?; [[ $rc -eq 1 || $rc -eq 4 ]]; }; }
mf=Samples/multifunction
plan "$mf/plan-q35.xml" --root "$mf/root" 01:00
plan "$mf/plan-q35.qemu.txt" --root "$mf/root" 01:00 --format qemu
plan "$mf/plan-pseries.qemu.txt" --root "$mf/root" 01:00 --format qemu --machine pseries
plan "$mf/plan-hidden.xml" --root "$mf/root" 01:00.0 01:00.2 --hide 01:00.3
plan "$mf/plan-hidden.hotplug.sh" --root "$mf/root" 01:00.0 01:00.2 --hide 01:00.3 --format virsh-hotplug
plan "$mf/plan.json" --root "$mf/root" 01:00 --json
plan Samples/sriov/plan-vf.hotplug.sh --root Samples/sriov/root 01:00.2 --format virsh-hotplug
"$bin" show --root Samples/sriov/root 00:02.0 > Samples/sriov/show-00-02.0.txt
# The picture the README shows: Graphviz's SVG of the SR-IOV sample's tree.
"$bin" tree --format dot --root Samples/sriov/root > Samples/sriov/tree.dot
dot -Tsvg Samples/sriov/tree.dot -o Samples/sriov/tree.svg
# Fleet formats from the SR-IOV sample (the Prometheus file with drift against the multifunction sample,
# the same topology with a multi-function device where the PF is), orchestrator suggestions, and one diff.
fleet=Samples/sriov/fleet
rm -rf "$fleet" && mkdir -p "$fleet"
"$bin" export --format nfd --root Samples/sriov/root -o "$fleet"
if [[ -s "$nfd_old" ]] && diff -q <(grep -v '^# +expiry-time=' "$nfd_old") <(grep -v '^# +expiry-time=' "$fleet/vfio-inspect") >/dev/null; then
    cp "$nfd_old" "$fleet/vfio-inspect"
fi
rm -f "$nfd_old"
"$bin" export --format prometheus --root Samples/sriov/root --baseline Samples/multifunction/root -o "$fleet"
"$bin" export --format ansible-fact --root Samples/sriov/root -o "$fleet"
"$bin" export --format dra --root Samples/sriov/root --node-name node-1 -o "$fleet"
"$bin" suggest --for kubevirt --root Samples/sriov/root > "$fleet/suggest-kubevirt.yaml"
"$bin" suggest --for sriovdp --root Samples/sriov/root > "$fleet/suggest-sriovdp.yaml"
"$bin" suggest --for nova --root Samples/sriov/root > "$fleet/suggest-nova.conf"
"$bin" suggest --for proxmox --root Samples/sriov/root --node-name pve1 > "$fleet/suggest-proxmox.cfg"
"$bin" diff Samples/multifunction/root Samples/sriov/root > Samples/diff-multifunction-sriov.txt || [[ $? -eq 1 ]]
# The man page, from the same help text (argument-parser's generate-manual plugin).
swift package plugin generate-manual --configuration debug --date 2026-11-30 >&2
# The plugin writes the generic `.Ex -std`; the tool's statuses are its own (the same list as --help).
python3 - .build/plugins/GenerateManual/outputs/vfio-inspect/vfio-inspect.1 Samples/vfio-inspect.1 <<'PY'
import sys
page = open(sys.argv[1]).read()
statuses = [("0", "Success; for check, plan, and report or groups with --exit-status: every unit shown is ready."),
            ("1", "Needs preparation (or warnings): a host driver to unbind, a device to prepare."),
            ("2", "Blocked: something known stops passthrough (plan: refused)."),
            ("3", "The input could not be read (a root, dump or file that is missing, damaged or refused)."),
            ("4", "Undetermined: something that decides the verdict is not in the input, or is damaged."),
            ("5", "A selector (-s, -d) or filter (--verdict) matched nothing."),
            ("64", "Usage error.")]
body = ".Bl -tag -width 4n\n" + "".join(f".It {n}\n{t}\n" for n, t in statuses) + ".El"
assert ".Ex -std" in page
open(sys.argv[2], "w").write(page.replace(".Ex -std", body))
PY
echo "Samples re-recorded; review with git diff Samples/" >&2
