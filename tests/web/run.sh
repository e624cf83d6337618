#!/usr/bin/env bash
# Runs a board browser test under ctest: installs the npm dependencies (playwright-core, from
# package-lock.json) when they are missing, then runs the test with node.
# Exits 77 (ctest's SKIP_RETURN_CODE for these tests) only when node or Chromium is absent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
chromium=${VIGIL_CHROMIUM:-/usr/bin/chromium}

if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed (scripts/vigil-dev installs it with the Debian packages)"
  exit 77
fi
if [[ ! -x "$chromium" ]]; then
  echo "SKIP: no Chromium at $chromium (apt-get install chromium; scripts/vigil-dev does)"
  exit 77
fi
if [[ ! -f "$here/node_modules/playwright-core/package.json" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: npm is not installed, cannot install playwright-core"
    exit 77
  fi
  # Two board tests may start at once: one installs, the other waits for it.
  (
    flock 9
    if [[ ! -f "$here/node_modules/playwright-core/package.json" ]]; then
      echo "board test: installing npm dependencies (npm ci) in $here"
      cd "$here" && npm ci --no-audit --no-fund --loglevel=error
    fi
  ) 9>"$here/.npm-install.lock"
fi
# VIGIL_BOARD_SCRIPT picks another test script of this folder (board_scaleout_test.mjs).
exec node "$here/${VIGIL_BOARD_SCRIPT:-board_test.mjs}" --chromium "$chromium" "$@"
