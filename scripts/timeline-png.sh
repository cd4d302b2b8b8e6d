#!/usr/bin/env bash
# Renders a timeline SVG (`roadside simulate --timeline`, `scenario run --timeline`) to a PNG
# for a person to look at: with headless Chromium when it is installed (Debian `chromium`),
# else with CairoSVG from PyPI in a virtual environment this script makes.
#
#   scripts/timeline-png.sh TIMELINE.svg OUT.png
set -euo pipefail
svg=${1:?usage: scripts/timeline-png.sh TIMELINE.svg OUT.png}
png=${2:?usage: scripts/timeline-png.sh TIMELINE.svg OUT.png}
[ -f "$svg" ] || { echo "error: no file at $svg" >&2; exit 66; }
width=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)".*/\1/p' "$svg" | head -1)
height=$(sed -n 's/.*<svg[^>]* height="\([0-9]*\)".*/\1/p' "$svg" | head -1)
for browser in chromium chromium-browser google-chrome; do
  if command -v "$browser" >/dev/null; then
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --window-size="${width:-1200},${height:-600}" --screenshot="$(realpath -m "$png")" \
      "file://$(realpath "$svg")" >/dev/null 2>&1
    echo "$png (Chromium)"
    exit 0
  fi
done
venv=${TMPDIR:-/tmp}/roadside-timeline-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet cairosvg || {
    echo "error: neither Chromium nor CairoSVG (pip install cairosvg) is available; install Debian's chromium" >&2
    exit 69
  }
fi
"$venv/bin/python" -c 'import sys, cairosvg; cairosvg.svg2png(url=sys.argv[1], write_to=sys.argv[2])' "$svg" "$png"
echo "$png (CairoSVG)"
