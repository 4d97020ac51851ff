#!/usr/bin/env bash
# One-step install for a fresh Debian machine: ffmpeg, a venv in .venv, CPU torch first, then the package.
# Usage: bash scripts/setup.sh [--gpu]   (re-running is cheap: finished steps are skipped by pip/apt)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  log "installing Debian ffmpeg"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/python -m pip -q --disable-pip-version-check"
$PIP install --upgrade pip setuptools wheel
# torch before anything that depends on it, or pip resolves the multi-GB CUDA wheels.
log "installing torch, torchcodec (pinned in constraints/cpu.txt)"
$PIP install -c constraints/cpu.txt torch torchcodec
# deepspeed builds from sdist and imports torch in setup.py: build against the torch we already have.
DS_BUILD_OPS=0 $PIP install -c constraints/cpu.txt --no-build-isolation deepspeed
log "installing score2instruct (editable) with test extras"
$PIP install -c constraints/cpu.txt -e ".[test]"
log "done: $(.venv/bin/s2i --version 2>/dev/null || echo 's2i installed')"
