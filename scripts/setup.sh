#!/usr/bin/env bash
# One-step install for a fresh Debian machine: ffmpeg, a venv in .venv, CPU torch first, then the package.
# Usage: bash scripts/setup.sh [--gpu]   (re-running is cheap: finished steps are skipped by pip/apt)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# ffmpeg makes and decodes the videos; a C++ compiler builds libsvm-official (BRISQUE's SVR, source-only on PyPI)
APT=""
{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || APT="$APT ffmpeg"
command -v c++ >/dev/null 2>&1 || APT="$APT g++"
if [ -n "$APT" ]; then
  log "installing Debian packages:$APT"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086  # one word per package
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $APT >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/python -m pip -q --disable-pip-version-check"
log "upgrading pip, setuptools, wheel in .venv"
$PIP install --upgrade pip setuptools wheel
# torch before anything that depends on it, or pip resolves the multi-GB CUDA wheels.
log "installing torch, torchcodec (pinned in constraints/cpu.txt)"
$PIP install -c constraints/cpu.txt torch torchcodec
# deepspeed builds from sdist and imports torch in setup.py: build against the torch we already have.
log "installing deepspeed (built against that torch, no compiled ops)"
DS_BUILD_OPS=0 $PIP install -c constraints/cpu.txt --no-build-isolation deepspeed
log "installing score2instruct, editable (plugins/, conf/ import as s2i_plugins, s2i_conf), test extras included"
# setuptools announces every editable install of a remapped layout with an 11-line 'Editable installation'
# notice shaped like a warning; the line above says the same, so that one notice is filtered (nothing else).
PYTHONWARNINGS="ignore:Editable installation" $PIP install -c constraints/cpu.txt -e ".[test]"
log "done: $(.venv/bin/s2i --version 2>/dev/null || echo 's2i installed')"
