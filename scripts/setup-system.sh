#!/bin/sh
# System packages tenor needs on Debian/Ubuntu: Graphviz (the `dot` renderer), python3-venv, and chromium
# (for the browser test of `tenor serve`).
# Installs them with apt-get when run as root (or with password-less sudo); otherwise says what to run.
set -u
need=""
command -v dot >/dev/null 2>&1 || need="$need graphviz"
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need="$need python3-venv"
# chromium: the browser test of `tenor serve` drives Debian's package (no browser is downloaded)
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -z "$need" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "tenor: please install:$need (not a Debian/Ubuntu system; tenor draws with matplotlib without Graphviz)" >&2
    exit 0
fi
if [ "$(id -u)" = "0" ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
    echo "tenor: please run: sudo apt-get install -y$need" >&2
    exit 0
fi
echo "tenor: installing$need"
$SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
