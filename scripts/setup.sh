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
# -qq: errors only; a machine's pip configuration may name index folders that do not exist, and pip warns about
# each of them on every install (the README promises a quiet set-up; failures still print)
PIP=".venv/bin/python -m pip -qq --disable-pip-version-check"
log "upgrading pip, setuptools, wheel in .venv"
# Every version is locked (constraints/lock.txt, frozen from a working install): a fresh install resolves the
# same packages as the one BENCHMARKS.md was measured with.
LOCK="-c constraints/lock.txt"
$PIP install --upgrade pip setuptools wheel
# torch before anything that depends on it, or pip resolves the multi-GB CUDA wheels; the lock pins the CPU
# build (+cpu), which lives on PyTorch's CPU index (TORCH_INDEX_URL= to use a mirror, empty for none).
TORCH_INDEX_URL=${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}
if [ -n "$TORCH_INDEX_URL" ] && ! .venv/bin/python -c \
    "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)" "$TORCH_INDEX_URL" 2>/dev/null; then
  log "PyTorch's CPU index ($TORCH_INDEX_URL) cannot be reached: torch comes from the configured package index"
  TORCH_INDEX_URL=
fi
log "installing torch, torchcodec (CPU builds, versions from constraints/lock.txt)"
# shellcheck disable=SC2086  # LOCK is two words
$PIP install $LOCK ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} torch torchcodec
# deepspeed builds from sdist and imports torch in setup.py: build against the torch we already have.
log "installing deepspeed (built against that torch, no compiled ops)"
# shellcheck disable=SC2086
DS_BUILD_OPS=0 $PIP install $LOCK --no-build-isolation deepspeed
log "installing score2instruct, editable (plugins/, conf/ import as s2i_plugins, s2i_conf), test extras included"
# setuptools announces every editable install of a remapped layout with an 11-line 'Editable installation'
# notice shaped like a warning; the line above says the same, so that one notice is filtered (nothing else).
# shellcheck disable=SC2086
PYTHONWARNINGS="ignore:Editable installation" $PIP install $LOCK -e ".[test]"
log "done: $(.venv/bin/s2i --version 2>/dev/null || echo 's2i installed')"
