#!/usr/bin/env bash
# The headless browser the web page's tests drive: Debian's chromium package. The Python `playwright`
# package (pinned in requirements/lock.txt) talks to it through `executable_path` with its bundled
# driver; Playwright's own browser downloads are never used. Quick when chromium is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
chromium=${ADGEN_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
  if [ "$chromium" != /usr/bin/chromium ]; then
    echo "browser: ADGEN_CHROMIUM=$chromium is not an executable" >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "browser: chromium is missing and installing it needs root: run" \
      "'apt-get install -y --no-install-recommends chromium' as root, or set ADGEN_CHROMIUM" >&2
    exit 1
  fi
  echo "browser: installing Debian's chromium"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
