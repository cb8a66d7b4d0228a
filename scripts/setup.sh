#!/usr/bin/env bash
# Installs what adgen needs and is missing: a virtual environment cached outside the clone (keyed by
# the lock files, so CI does not rebuild it on every run), the project's packages in editable mode,
# and the buf CLI for protobuf linting. `.venv` in the clone is a link to the cached environment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${ADGEN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/adgen}
python=${PYTHON:-python3}
mkdir -p "$cache"

key=$( (cat requirements/*.txt; "$python" --version) | sha256sum | cut -c1-16)
venv="$cache/venv-$key"
if [ ! -f "$venv/.complete" ]; then
  echo "setup: building the virtual environment in $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements/lock.txt 2>&1 | grep -v "is ignored" || true
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements/assets.txt 2>&1 | grep -v "is ignored" || true
  "$venv/bin/python" -c "import grpc, nats, asyncpg, av, cv2, fastapi" # fail here, not later, if the install broke
  touch "$venv/.complete"
  # Environments of older lock files that nobody used for a day.
  find "$cache" -maxdepth 1 -name 'venv-*' ! -name "venv-$key" -mtime +1 -exec rm -rf {} +
fi
ln -sfn "$venv" .venv

# The project's own packages, editable, pointing at this clone. Re-done only when the clone moved
# or a pyproject changed.
packages=(gen/python kernel providers video services/planner services/storyboard services/chunks services/refine
          services/export services/voice services/assets gateway embedded cli)
stamp="$venv/.editable"
want=$( (echo "$root"; cat "${packages[@]/%//pyproject.toml}") | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing the adgen packages (editable)"
  args=()
  for p in "${packages[@]}"; do args+=(-e "$p"); done
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation "${args[@]}" 2>&1 \
    | grep -v "is ignored" || true
  echo "$want" > "$stamp"
fi

# buf (protobuf lint) from the npm registry, cached beside the venv.
buf_version=$(cat protos/BUF_VERSION)
bufdir="$cache/buf-$buf_version"
if [ ! -x "$bufdir/node_modules/.bin/buf" ]; then
  echo "setup: installing buf $buf_version"
  npm install --silent --no-audit --no-fund --prefix "$bufdir" "@bufbuild/buf@$buf_version" >/dev/null 2>&1
fi
ln -sfn "$bufdir/node_modules/.bin/buf" .venv/bin/buf
