#!/usr/bin/env bash
# Install the system libraries Qt needs (Debian/Ubuntu), only those missing.
# Runs as root or with sudo; elsewhere it prints what to install and carries on.
set -u
want_libs=(
  "libEGL.so.1:libegl1"
  "libGL.so.1:libgl1"
  "libxkbcommon.so.0:libxkbcommon0"
  "libfontconfig.so.1:libfontconfig1"
  "libfreetype.so.6:libfreetype6"
  "libdbus-1.so.3:libdbus-1-3"
  "libglib-2.0.so.0:libglib2.0-0"
  "libxkbcommon-x11.so.0:libxkbcommon-x11-0"
  "libxcb-cursor.so.0:libxcb-cursor0"
  "libxcb-icccm.so.4:libxcb-icccm4"
  "libxcb-image.so.0:libxcb-image0"
  "libxcb-keysyms.so.1:libxcb-keysyms1"
  "libxcb-randr.so.0:libxcb-randr0"
  "libxcb-render-util.so.0:libxcb-render-util0"
  "libxcb-shape.so.0:libxcb-shape0"
  "libxcb-xinerama.so.0:libxcb-xinerama0"
  "libxcb-xkb.so.1:libxcb-xkb1"
  "libX11-xcb.so.1:libx11-xcb1"
)
missing=()
for pair in "${want_libs[@]}"; do
  lib=${pair%%:*}; pkg=${pair##*:}
  ldconfig -p 2>/dev/null | grep -q "$lib" || missing+=("$pkg")
done
# fonts: without any, Qt renders empty boxes
fc-list 2>/dev/null | grep -q . || missing+=("fonts-dejavu-core" "fontconfig")
# programs the tests use to read the invoice PDFs back (pdftotext, pdftoppm)
command -v pdftotext >/dev/null 2>&1 || missing+=("poppler-utils")
# `make screenshots` runs the application under a virtual X server
if [ "${1:-}" = "--xvfb" ]; then
  command -v xvfb-run >/dev/null 2>&1 || missing+=("xvfb" "xauth")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "sysdeps: please install the Qt runtime libraries: ${missing[*]}" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "sysdeps: run as root or install: ${missing[*]}" >&2; exit 0; fi
fi
echo "sysdeps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
