#!/usr/bin/env bash
# Official-processor parity: our video preprocessing against transformers' video processors, which need
# torchvision, and the exported model/ of `s2i train` through AutoProcessor (tests/test_lmm_export.py).
# PyPI's torchvision does not run beside the CPU torch 2.13 of .venv, so a side venv (.venv-tv)
# takes torch 2.14.1 + torchvision 0.29.1 (on this machine kind they lie on local disk, ~5.5 GB) and runs only
# those tests. Where that pair cannot be installed the check is skipped with a message; once installed, a
# mismatch fails.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[parity]\033[0m %s\n' "$*" >&2; }
V=.venv-tv
PYTHON=${PYTHON:-python3}
[ -x "$V/bin/python" ] || "$PYTHON" -m venv "$V"
PIP="$V/bin/python -m pip -q --disable-pip-version-check"
if ! $PIP install torch==2.14.1 torchvision==0.29.1; then
  log "skipped: torch 2.14.1 + torchvision 0.29.1 cannot be installed here"
  exit 0
fi
$PIP install torchcodec==0.13.0 "transformers>=5.0,<6" pluggy hydra-core omegaconf rich numpy scipy \
  opencv-python-headless peft accelerate safetensors pillow pytest pytest-timeout matplotlib
$PIP install --no-deps --no-build-isolation -e .
log "running the official-processor parity tests with torchvision $($V/bin/python -c 'import torchvision; print(torchvision.__version__)')"
exec "$V/bin/python" -m pytest tests/test_lmm_adapters.py tests/test_lmm_export.py \
  -k "official or patchify or scores_like_assess" -p no:cacheprovider "$@"
