#!/usr/bin/env bash
# The Debian packages adgen uses, installed when missing (quick when they are there):
#   browser  chromium, driven by the web page's tests through the `playwright` package's
#            `executable_path` (Playwright's own browser downloads are never used)
#   fonts    fonts-dejavu-core, the type of the studio's supers (a bold and a regular weight)
#   ffmpeg   ffmpeg, whose ebur128 filter judges the delivered audio's loudness and true peak in
#            the refine tests, independently of the code that set them
# Usage: scripts/debian.sh browser fonts ffmpeg
set -euo pipefail
chromium=${ADGEN_CHROMIUM:-/usr/bin/chromium}
fonts=${ADGEN_FONT_DIR:-/usr/share/fonts/truetype/dejavu}

missing=()
for want in "$@"; do
  case "$want" in
    browser)
      if [ ! -x "$chromium" ]; then
        if [ "$chromium" != /usr/bin/chromium ]; then
          echo "debian: ADGEN_CHROMIUM=$chromium is not an executable" >&2
          exit 1
        fi
        missing+=(chromium)
      fi
      ;;
    fonts)
      if [ ! -f "$fonts/DejaVuSans-Bold.ttf" ]; then
        if [ "$fonts" != /usr/share/fonts/truetype/dejavu ]; then
          echo "debian: ADGEN_FONT_DIR=$fonts has no DejaVuSans-Bold.ttf" >&2
          exit 1
        fi
        missing+=(fonts-dejavu-core)
      fi
      ;;
    ffmpeg)
      command -v ffmpeg >/dev/null || missing+=(ffmpeg)
      ;;
    *) echo "debian: unknown group '$want' (browser, fonts, ffmpeg)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "debian: ${missing[*]} missing and installing needs root: run" \
    "'apt-get install -y --no-install-recommends ${missing[*]}' as root" >&2
  exit 1
fi
echo "debian: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
