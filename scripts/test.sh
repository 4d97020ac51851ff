#!/usr/bin/env bash
# Install everything (scripts/setup.sh, and Chromium for the report test) and run the test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Headless Chromium renders report.html in tests/test_report.py (skipped with a message where it is absent).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  printf '\033[1;34m[test]\033[0m %s\n' "installing Debian chromium for the report test" >&2
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends chromium >/dev/null; } || echo "chromium not installed: the browser test will skip" >&2
fi
exec .venv/bin/python -m pytest "$@"
