#!/usr/bin/env bash
# Our outputs in the tools users already have (tests/test_clients.py): LLaMA-Factory 0.9.5 trains one step on
# our stage II export and builds the same tokens as our trainer, transformers' own classes open a saved
# checkpoint and our tuned model, `datasets` loads records.jsonl, the stage files and the Parquet.
# LLaMA-Factory pins its own torch/transformers, so it lives in a side venv (.venv-lf, torch 2.14.1). Where it
# cannot be installed the check is skipped with a message; once installed, a mismatch fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/side_venv.sh
side_venv_create clients .venv-lf
log "installing LLaMA-Factory 0.9.5 with torch 2.14.1 in $V (the first time takes several minutes)"
side_venv_require "LLaMA-Factory 0.9.5 with torch 2.14.1" torch==2.14.1 torchvision==0.29.1 llamafactory==0.9.5
side_venv_install torchcodec==0.13.0 pluggy hydra-core omegaconf rich scipy opencv-python-headless pyarrow \
  pytest pytest-timeout
log "running tests/test_clients.py with $($V/bin/python -c 'import llamafactory, transformers; print("LLaMA-Factory", llamafactory.__version__, "transformers", transformers.__version__)')"
export HF_HUB_OFFLINE=1 DISABLE_VERSION_CHECK=1 HF_DATASETS_CACHE="${TMPDIR:-/tmp}/s2i-clients-hf-cache"
exec "$V/bin/python" -m pytest tests/test_clients.py -p no:cacheprovider "$@"
