#!/usr/bin/env bash
# Issue 2.0's stress test at its full count: quit, SIGINT, SIGTERM and SIGHUP in the UI, and
# SIGINT/SIGTERM in `photoverse generate`, each aimed REPEATS times at the first step, a random
# point of the run and the save (REPEATS=17: 51 exits per path). make test runs it once each.
#   scripts/stress-exit.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
swift build --build-tests
PHOTOVERSE_STRESS_REPEATS="${1:-17}" swift test --skip-build --disable-swift-testing --filter ExitStressTests 2>&1 \
  | grep -E "exit stress|error|Executed|failed" 
