#!/usr/bin/env bash
# Runs the tests of tools/kube-sim (tools/kube_sim/tests/test_*.py, unittest + python3-yaml) and exits
# non-zero when one fails. Needs python3 and openssl; the kubectl tests run when kubectl is on PATH (or
# $KUBECTL names one). Prints unittest's summary, then "N passed, N failed, N skipped".
set -u
root="$(cd "$(dirname "$0")/../.." && pwd)"
for tool in python3 openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "kube-sim.sh: $tool is missing" >&2; exit 1; }
done
cd "$root/tools/kube_sim/tests" || exit 1
exec python3 -W ignore::ResourceWarning - <<'PY'
import sys
import unittest

suite = unittest.defaultTestLoader.discover(".", pattern="test_*.py", top_level_dir=".")
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
print("%d passed, %d failed, %d skipped" % (result.testsRun - failed - skipped, failed, skipped))
sys.exit(0 if result.wasSuccessful() else 1)
PY
