#!/usr/bin/env bash
# Official-processor parity: our video preprocessing against transformers' video processors, which need
# torchvision, and the exported model/ of `s2i train` through AutoProcessor (tests/test_lmm_export.py).
# PyPI's torchvision does not run beside the CPU torch 2.13 of .venv, so a side venv (.venv-tv)
# takes torch 2.14.1 + torchvision 0.29.1 (on this machine kind they lie on local disk, ~5.5 GB) and runs only
# those tests. Where that pair cannot be installed the check is skipped with a message; once installed, a
# mismatch fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/side_venv.sh
side_venv_create parity .venv-tv
side_venv_require "torch 2.14.1 + torchvision 0.29.1" torch==2.14.1 torchvision==0.29.1
# transformers as locked for .venv: parity is with the official processors of the release the project ships
# with (5.25 changed Qwen3-VL's video prompt; a newer release is a deliberate upgrade of the lock, not a drift)
TRANSFORMERS=$(grep -i '^transformers==' constraints/lock.txt || echo "transformers>=5.0,<6")
side_venv_install torchcodec==0.13.0 "$TRANSFORMERS" pluggy hydra-core omegaconf rich numpy scipy \
  opencv-python-headless peft accelerate safetensors pillow pytest pytest-timeout matplotlib
log "running the official-processor parity tests with torchvision $($V/bin/python -c 'import torchvision; print(torchvision.__version__)')"
exec "$V/bin/python" -m pytest tests/test_lmm_adapters.py tests/test_lmm_export.py \
  -k "official or patchify or scores_like_assess" -p no:cacheprovider "$@"
