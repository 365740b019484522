#!/usr/bin/env bash
# Install dash-pipeline, build the example pipeline on local disk with luigi's
# embedded scheduler, then run it again: the second run executes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e .

echo "== first run: builds what is missing"
"$PYTHON" -m pipelines run examples/sales/pipeline.py:SalesReport --date 2026-11-24
echo
echo "== second run: everything is done, nothing executes"
"$PYTHON" -m pipelines run examples/sales/pipeline.py:SalesReport --date 2026-11-24
echo
echo "== build/sales/reports/2026-11-24.md"
cat build/sales/reports/2026-11-24.md

echo
echo "== the same pipeline declared in YAML: build, then a rerun with nothing to do"
"$PYTHON" -m pipelines run examples/sales/pipeline.yaml --date 2026-11-24
"$PYTHON" -m pipelines run examples/sales/pipeline.yaml --date 2026-11-24
