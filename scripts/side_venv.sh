# Shared by scripts/test_parity.sh and scripts/test_clients.sh, which run a few tests in a side venv whose torch
# differs from the one in .venv. Source it from the repository root after `set -euo pipefail`, then:
#   side_venv_create TAG FOLDER        `log` prints "[TAG] ..."; FOLDER is the venv (kept between runs) and $V
#   side_venv_require WHAT PACKAGE...  the pinned stack; where it cannot be installed, say so and exit 0 (the
#                                      check is skipped, not failed)
#   side_venv_install PACKAGE...       the rest, then this project (editable, without its own dependencies)
# PYTHON chooses the interpreter that creates the venv (python3 by default).

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$SIDE_TAG" "$*" >&2; }

side_venv_pip() { "$V/bin/python" -m pip -q --disable-pip-version-check "$@"; }

side_venv_create() {
  SIDE_TAG=$1
  V=$2
  [ -x "$V/bin/python" ] || "${PYTHON:-python3}" -m venv "$V"
}

side_venv_require() {
  local what=$1
  shift
  if ! side_venv_pip install "$@"; then
    log "skipped: $what cannot be installed here"
    exit 0
  fi
}

side_venv_install() {
  side_venv_pip install "$@"
  side_venv_pip install --no-deps --no-build-isolation -e .
}
