#!/usr/bin/env bash
# The fleet formats' real consumers from PyPI, in a venv under .build/fleet-venv (made once, reused):
# prometheus-client's parser, ansible-core (fact gathering), kubernetes-validate (Kubernetes' own schemas),
# PyYAML and jsonschema, and OpenStack Nova (its [pci] parser). Prints the venv's bin directory.
# promtool, node_exporter and kubectl come from Debian (Scripts/install-deps.sh --test).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/fleet-venv
stamp="$venv/.complete-1"
if [[ ! -f "$stamp" ]]; then
    rm -rf "$venv"
    mkdir -p .build
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        'prometheus-client==0.26.0' 'ansible-core>=2.17,<2.20' 'kubernetes-validate==1.37.0' \
        'PyYAML>=6' 'jsonschema>=4' 'nova==34.0.0' >&2
    touch "$stamp"
fi
echo "$PWD/$venv/bin"
